"""xiaowei (小微): a platform for a bank's small-and-micro-business digital credit business."""

__version__ = "0.1.0"
