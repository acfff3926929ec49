"""A tiny Flask service: the application lading's demo ships."""

__version__ = "1.0.0"


def create_app():  # type: ignore[no-untyped-def]
    from flask import Flask

    app = Flask(__name__)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app


def main() -> None:
    create_app().run(host="127.0.0.1", port=8000)
