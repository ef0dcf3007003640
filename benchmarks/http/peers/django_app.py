"""Django (WSGI): its ORM on psycopg 3 (persistent connections), its template engine."""

from __future__ import annotations

import django
from django.conf import settings
from psycopg.conninfo import conninfo_to_dict

from tfb import DSN, TEMPLATES

_info = conninfo_to_dict(DSN)

settings.configure(
    DEBUG=False,
    SECRET_KEY="benchmark-only-not-secret",
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=["peers.django_models"],
    MIDDLEWARE=[],
    USE_TZ=True,
    DATABASES={
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": _info["dbname"],
            "USER": _info.get("user", "postgres"),
            "HOST": _info.get("host", "127.0.0.1"),
            "PORT": _info.get("port", "5432"),
            "CONN_MAX_AGE": None,  # persistent: one connection per server thread
        }
    },
    TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [TEMPLATES]}],
)
django.setup()

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import HttpResponse, JsonResponse  # noqa: E402
from django.shortcuts import render  # noqa: E402
from django.urls import path  # noqa: E402

from peers.django_models.models import Fortune, World  # noqa: E402
from tfb import ADDITIONAL_FORTUNE, ROWS, query_count, random_id, random_ids  # noqa: E402


def json_(request):
    return JsonResponse({"message": "Hello, World!"})


def plaintext(request):
    return HttpResponse("Hello, World!", content_type="text/plain; charset=utf-8")


def db(request):
    world = World.objects.get(id=random_id(1, ROWS))
    return JsonResponse({"id": world.id, "randomNumber": world.randomnumber})


def queries(request):
    count = query_count(request.GET.get("queries"))
    worlds = [World.objects.get(id=i) for i in random_ids(count)]
    return JsonResponse([{"id": w.id, "randomNumber": w.randomnumber} for w in worlds], safe=False)


def updates(request):
    count = query_count(request.GET.get("queries"))
    worlds = [World.objects.get(id=i) for i in random_ids(count)]
    for world in worlds:
        world.randomnumber = random_id(1, ROWS)
    World.objects.bulk_update(worlds, ["randomnumber"])
    return JsonResponse([{"id": w.id, "randomNumber": w.randomnumber} for w in worlds], safe=False)


def fortunes(request):
    rows = list(Fortune.objects.all())
    rows.append(Fortune(id=0, message=ADDITIONAL_FORTUNE))
    rows.sort(key=lambda f: f.message)
    return render(request, "fortunes.html", {"fortunes": rows})


urlpatterns = [
    path("json", json_),
    path("plaintext", plaintext),
    path("db", db),
    path("queries", queries),
    path("updates", updates),
    path("fortunes", fortunes),
]

app = get_wsgi_application()
