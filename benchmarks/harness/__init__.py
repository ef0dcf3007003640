"""In-process benchmark harness: drives ASGI and WSGI apps without sockets."""
