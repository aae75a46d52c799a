"""One APIRouter per resource; `service.app` is the only place that mounts them."""

from service.routes import (
    admin,
    arithmetic,
    encode,
    generate,
    health,
    infogan,
    interpolate,
    models,
    text2image,
    translate,
    v2,
)

ROUTERS = [
    models.router,
    generate.router,
    interpolate.router,
    arithmetic.router,
    infogan.router,
    encode.router,
    translate.router,
    text2image.router,
    health.router,
    v2.router,
    admin.router,
]
