"""What every local fake shares: an aiohttp app served on a free loopback port."""
from __future__ import annotations

from aiohttp import web


class LocalServer:
    """Subclasses set `self.app` and `self.host`; `async with` starts and stops the server."""

    app: web.Application
    host: str
    _runner: web.AppRunner | None = None
    port: int | None = None

    async def start(self):
        if self._runner is not None:
            return self
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        await web.TCPSite(runner, self.host, 0).start()
        self._runner = runner
        self.port = runner.addresses[0][1]
        return self

    async def close(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self):
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def origin(self) -> str:
        """http://host:port, once started."""
        if self.port is None:
            raise RuntimeError(f"{type(self).__name__} is not started (use `async with {type(self).__name__}() as fake:`)")
        return f"http://{self.host}:{self.port}"
