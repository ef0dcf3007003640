from typing import Annotated

import msgspec

from oakling import App, NotFound

app = App()


class TodoIn(msgspec.Struct):
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    done: bool = False


class Todo(msgspec.Struct):
    id: int
    title: str
    done: bool


app.state.todos = {}


@app.post("/todos", status=201)
def create(todo: TodoIn) -> Todo:
    todos: dict[int, Todo] = app.state.todos
    created = Todo(len(todos) + 1, todo.title, todo.done)
    todos[created.id] = created
    return created


@app.get("/todos/{todo_id:int}")
def read(todo_id: int) -> Todo:
    todos: dict[int, Todo] = app.state.todos
    if todo_id not in todos:
        raise NotFound(f"No todo {todo_id}")
    return todos[todo_id]
