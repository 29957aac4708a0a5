"""Photo grading: safe photo intake, image analysis and the grade model. Pure: no database, no web."""

import os

# OpenCV's own decoder cap (a library limit, not a setting: uploads are capped at 50 MP before decoding, see
# intake.MAX_UPLOAD_PIXELS). OpenCV reads it once, when it first decodes, so it is set before `import cv2`.
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(50_000_000))
