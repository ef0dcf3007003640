from oakling import App

app = App(

@app.get("/")
def index() -> str:
    return "never"
