"""The yardstick for bench/load.py: a bare Flask endpoint, served by the same gunicorn settings."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "ok"
