"""The integration layer: devices (assets), live readings and the OGC interfaces that carry them."""
