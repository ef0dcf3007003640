from oakling import App, Component
from oakling.api import OpenAPI

v1 = Component("v1", prefix="/v1")
v2 = Component("v2", prefix="/v2")


@v1.get("/users")
def users_v1() -> list[str]:
    return ["alice"]


@v2.get("/users")
def users_v2(limit: int = 10) -> dict[str, list[str]]:
    return {"users": ["alice"][:limit]}


app = App()
app.include(v1)
app.include(v2)
# One document (and docs page) per version, each under its prefix.
app.include(OpenAPI("Users API", "1", components=[v1], name="openapi_v1"), prefix="/v1")
app.include(OpenAPI("Users API", "2", components=[v2], name="openapi_v2"), prefix="/v2")
