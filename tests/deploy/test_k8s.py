"""The Kubernetes manifests validate against a named Kubernetes version and agree with the service."""

from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from service.settings import Settings

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
VERSION = "1.31.0"


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def base_resources() -> list[Path]:
    return [K8S / "base" / name for name in load(K8S / "base" / "kustomization.yaml")["resources"]]


def merge(base: dict, patch: dict) -> dict:
    """A strategic merge for what our patches use: maps merge, containers merge by name, other lists replace."""
    out = dict(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            out[key] = merge(base[key], value)
        elif key == "containers":
            by_name = {c["name"]: c for c in base.get(key, [])}
            out[key] = [merge(by_name.get(c["name"], {}), c) for c in value]
        else:
            out[key] = value
    return out


@pytest.mark.parametrize("path", base_resources(), ids=lambda p: p.name)
def test_base_resource_validates(path):
    kubernetes_validate.validate(load(path), VERSION, strict=True)


def test_gpu_overlay_validates():
    overlay = load(K8S / "overlays" / "gpu" / "kustomization.yaml")
    deployment = merge(
        load(K8S / "base" / "deployment.yaml"), load(K8S / "overlays" / "gpu" / overlay["patches"][0]["path"])
    )
    kubernetes_validate.validate(deployment, VERSION, strict=True)
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"  # kept from the base
    literals = dict(item.split("=", 1) for item in overlay["configMapGenerator"][0]["literals"])
    assert literals["GAN_PROVIDER"] == "cuda"


def test_probes_and_settings_match_the_service():
    deployment = load(K8S / "base" / "deployment.yaml")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    env = load(K8S / "base" / "configmap.yaml")["data"]
    fields = {f"GAN_{name.upper()}" for name in Settings.model_fields}
    assert set(env) <= fields, f"unknown settings {set(env) - fields}"
    Settings(**{k.removeprefix("GAN_").lower(): v for k, v in env.items()})  # values parse
