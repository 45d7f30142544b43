"""sigdae: denoising autoencoders for images and sound."""

__version__ = "0.1.0"
