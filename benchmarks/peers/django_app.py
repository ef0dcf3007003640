"""Django (ASGI handler): settings configured in-module, async views, no middleware."""

from __future__ import annotations

import django
import msgspec
from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="benchmark-only-not-secret",
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[],
    MIDDLEWARE=[],
    USE_TZ=True,
)
django.setup()

from django.core.asgi import get_asgi_application  # noqa: E402
from django.http import HttpRequest, HttpResponse, JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402
from django.views.decorators.http import require_GET, require_POST  # noqa: E402


class Item(msgspec.Struct):
    name: str
    price: float
    tags: list[str] = []


def _int_param(request: HttpRequest, name: str, default: int) -> int:
    return int(request.GET.get(name, default))


@require_GET
async def plaintext(request: HttpRequest) -> HttpResponse:
    return HttpResponse("Hello, World!", content_type="text/plain")


@require_GET
async def json_(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"message": "Hello, World!"})


@require_GET
async def user(request: HttpRequest, id: int) -> HttpResponse:
    return JsonResponse({"id": id, "name": f"user{id}"})


@require_GET
async def query(request: HttpRequest) -> HttpResponse:
    try:
        limit, offset = _int_param(request, "limit", 10), _int_param(request, "offset", 0)
    except ValueError:
        return JsonResponse({"detail": "invalid query"}, status=422)
    return JsonResponse({"limit": limit, "offset": offset})


@require_POST
async def create(request: HttpRequest) -> HttpResponse:
    try:
        item = msgspec.json.decode(request.body, type=Item)
    except msgspec.ValidationError as exc:
        return JsonResponse({"detail": str(exc)}, status=422)
    except msgspec.DecodeError:
        return JsonResponse({"detail": "invalid JSON"}, status=400)
    return JsonResponse({"id": 1, **msgspec.structs.asdict(item)}, status=201)


urlpatterns = [
    path("plaintext", plaintext),
    path("json", json_),
    path("users/<int:id>", user),
    path("query", query),
    path("items", create),
]

app = get_asgi_application()
