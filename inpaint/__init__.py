"""Fills: replace masked pixels (box, blur, pixelate, OpenCV inpainting, RFR-Net)."""
