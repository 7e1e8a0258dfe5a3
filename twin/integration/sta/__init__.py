"""OGC SensorThings API 1.1 (OGC 18-088, Part 1: Sensing) at /sta/v1.1, over the park's assets as Things."""
