"""Service settings, read once from the environment (prefix TWIN_) and passed down."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/parktwin"


class Settings(BaseSettings):
    """Everything configurable about a running ParkTwin; see README "Configuration"."""

    model_config = SettingsConfigDict(env_prefix="TWIN_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    log_json: bool = True
    data_dir: Path = Field(default=REPO_ROOT / "var", description="uploads, job scratch space")
    web_dir: Path = REPO_ROOT / "web"
    demo_dir: Path = REPO_ROOT / "data" / "demo"
    jobs_enabled: bool = Field(default=True, description="run queued jobs (IFC conversion) in this service process")
    jobs_stale_seconds: float = Field(default=30.0, gt=0, description="a running job without heartbeat for this long was interrupted: re-queue it")
    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = 1883
    mqtt_enabled: bool = Field(default=True, description="run the MQTT observation consumer inside the service")
    mqtt_client_id: str = Field(default="parktwin", description="MQTT client id prefix; '-<host>-<slot>' is appended")
    mqtt_shared: bool = Field(default=True, description="share the MQTT subscriptions between workers ($share/...); "
                              "`twin serve` with one worker turns it off: Mosquitto does not keep shared subscriptions across its restart")
    asset_offline_after_s: int = Field(default=900, description="an asset whose newest reading is older is offline")
    alarm_auto_broadcast: bool = Field(default=True, description="critical fire alarms start an emergency broadcast to displays/speakers near them")
    alarm_broadcast_radius_m: float = Field(default=200.0, gt=0, description="displays/speakers this close to an alarm get its broadcast")
    alarm_sweep_interval_s: float = Field(default=30.0, gt=0, description="how often the no-data alarm rules are evaluated")
    max_upload_bytes: int = 500 * 1024 * 1024
    max_body_bytes: int = Field(default=16 * 1024 * 1024, gt=0, description="largest request body other than a multipart upload (JSON, SensorThings, observation batches); larger is 413")
    max_page_size: int = 10_000
    default_page_size: int = 1_000
    # Reads without a token (viewer role) — off by default: the twin holds the park's security layout.
    public_read: bool = False
    demo_password: str = Field(default="parktwin-demo", description="password of the demo users made by `twin demo load`")
    storey_height_m: float = 3.0
    default_building_height_m: float = 10.0
    score_live_window_min: int = Field(default=15, ge=1, description="a sensor counts as live if it reported this recently")
    score_partial_credit: str = Field(default="linear_floor", pattern="^(linear_floor|linear_round|lowest)$", description="points inside a rubric range")
    score_attachment_max_bytes: int = Field(default=20 * 1024 * 1024, gt=0, description="largest evidence attachment")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
