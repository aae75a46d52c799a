// The public API as the page calls it: JSON POSTs, their errors as one message, each request as a curl
// line, and a chosen file as the base64 a body carries.

export class ApiError extends Error {}

export function describeError(status, body) {
  const detail = body && body.detail;
  if (Array.isArray(detail)) return detail.map((d) => `${d.loc.slice(1).join('.') || 'body'}: ${d.msg}`).join('; ');
  return `${status}: ${typeof detail === 'string' ? detail : 'request failed'}`;
}

export async function post(path, body, signal) {
  const r = await fetch(path, {
    method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body), signal,
  });
  const data = await r.json().catch(() => null);
  if (!r.ok) throw new ApiError(describeError(r.status, data));
  return data;
}

export function curl(path, body) {
  const json = JSON.stringify(body).replaceAll("'", "'\\''");
  return `curl -sS -X POST '${location.origin}${path}' -H 'Content-Type: application/json' -d '${json}'`;
}

export function fileBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(',')[1]);
    reader.onerror = () => reject(new ApiError('could not read the file'));
    reader.readAsDataURL(file);
  });
}
