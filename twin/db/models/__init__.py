"""All ORM models, imported here so Alembic and the app see the whole metadata."""

from twin.db.models.access import ApiToken, User
from twin.db.models.alarms import Alarm, AlarmRule, Event  # noqa: F401
from twin.db.models.assets import Asset
from twin.db.models.bim import BimElement, BimModel, BimModelVersion
from twin.db.models.enterprises import Enterprise
from twin.db.models.features import Feature, FeatureKind
from twin.db.models.imports import ImportRecord
from twin.db.models.jobs import Job
from twin.db.models.layers import Layer
from twin.db.models.parks import Park
from twin.db.models.scoring import ScoreAttachment, ScoreEvidence, ScoreSnapshot  # noqa: F401
from twin.db.models.sensing import Datastream, DatastreamLatest, FeatureOfInterest, HistoricalLocation, HistoricalLocationLocation, Location, Observation, ObservedProperty, Sensor, ThingLocation  # noqa: F401
from twin.db.models.tiles import TileBlob, Tileset, TilesetBlob

__all__ = ["BimElement", "BimModel", "BimModelVersion", "Job", "TileBlob", "Tileset", "TilesetBlob", "ApiToken", "User", "Asset", "Enterprise", "Feature", "FeatureKind", "ImportRecord", "Layer", "Park"]
