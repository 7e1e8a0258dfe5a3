"""All ORM models, imported here so Alembic and the app see the whole metadata."""

from twin.db.models.access import ApiToken, User
from twin.db.models.assets import Asset
from twin.db.models.enterprises import Enterprise
from twin.db.models.features import Feature, FeatureKind
from twin.db.models.imports import ImportRecord
from twin.db.models.layers import Layer
from twin.db.models.parks import Park

__all__ = ["ApiToken", "User", "Asset", "Enterprise", "Feature", "FeatureKind", "ImportRecord", "Layer", "Park"]
