"""For the `piccolo` command run from the repository root (e.g. `piccolo migrations new catalog --auto`)."""

from forever.piccolo_conf import APP_REGISTRY, DB  # noqa: F401
