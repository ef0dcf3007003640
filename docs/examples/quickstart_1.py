from oakling import App

app = App()


@app.get("/")
def index() -> str:
    return "<h1>Hello, oakling!</h1>"


@app.get("/hello/{name}")
def hello(name: str, excited: bool = False) -> dict[str, str]:
    return {"message": f"Hello, {name}{'!' if excited else '.'}"}
