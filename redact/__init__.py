"""redact: find faces, names, personal data and logos in images, PDFs and videos, and remove them."""
__version__ = "0.1.0"
