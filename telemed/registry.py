"""Every process telemed runs: its name, default port, app factory, settings and migrations."""

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from services.common.settings import ServiceSettings

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    port: int
    package: str
    settings_class: str
    loop: str = "auto"  # uvicorn's `--loop`; aiortc (video) needs the plain asyncio loop

    @property
    def app_factory(self) -> str:
        return f"{self.package}.app:create_app"

    @property
    def migrations_dir(self) -> Path:
        return ROOT / self.package.replace(".", "/") / "migrations"

    @property
    def env_prefix(self) -> str:
        return f"TELEMED_{self.name.upper()}_"

    def settings(self, **overrides: Any) -> ServiceSettings:
        module = importlib.import_module(f"{self.package}.settings")
        cls = cast(type[ServiceSettings], getattr(module, self.settings_class))
        return cls(**overrides)


GATEWAY = ServiceSpec("gateway", 8000, "gateway", "GatewaySettings")
SERVICES: tuple[ServiceSpec, ...] = (
    GATEWAY,
    ServiceSpec("consult", 8001, "services.consult", "ConsultSettings"),
    ServiceSpec("files", 8002, "services.files", "FilesSettings"),
    ServiceSpec("video", 8003, "services.video", "VideoSettings", loop="asyncio"),
    ServiceSpec("scheduling", 8004, "services.scheduling", "SchedulingSettings"),
    # The web console: pages only, reached through the gateway like every service.
    ServiceSpec("web", 8005, "web", "WebSettings"),
)


def spec(name: str) -> ServiceSpec:
    for candidate in SERVICES:
        if candidate.name == name:
            return candidate
    raise KeyError(name)
