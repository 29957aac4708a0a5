"""AMI For Ever: trade-in and second-hand platform of AMI Paris."""

import os

# Piccolo finds its configuration through this variable; ours lives inside the package.
os.environ.setdefault("PICCOLO_CONF", "forever.piccolo_conf")
