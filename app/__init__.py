"""The platform: the application factory is app.factory.create_app; the layers are
described in docs/architecture.md."""
