"""One APIRouter per resource; `service.app` is the only place that mounts them."""

from service.routes import admin, arithmetic, generate, health, infogan, interpolate, models, v2

ROUTERS = [
    models.router,
    generate.router,
    interpolate.router,
    arithmetic.router,
    infogan.router,
    health.router,
    v2.router,
    admin.router,
]
