"""The WebSocket endpoint and its connection manager: echo to the sender, broadcast to all."""

from __future__ import annotations

from typing import Dict

from starlette.websockets import WebSocket, WebSocketDisconnect


class ConnectionManager:
    """Tracks open WebSocket connections by id; one manager per application, never global."""

    def __init__(self) -> None:
        self._connections: Dict[int, WebSocket] = {}
        self._next_id = 1

    @property
    def active(self) -> int:
        """How many connections are open."""
        return len(self._connections)

    async def connect(self, websocket: WebSocket) -> int:
        """Accept a connection and return the id it is known by."""
        await websocket.accept()
        connection_id = self._next_id
        self._next_id += 1
        self._connections[connection_id] = websocket
        return connection_id

    def disconnect(self, connection_id: int) -> None:
        """Forget a connection (it may already be gone)."""
        self._connections.pop(connection_id, None)

    async def broadcast(self, message: Dict[str, object]) -> None:
        """Send a JSON message to every open connection."""
        for websocket in list(self._connections.values()):
            await websocket.send_json(message)


async def websocket_endpoint(websocket: WebSocket) -> None:
    """Echo each text message back to its sender, then broadcast it to every connection."""
    manager: ConnectionManager = websocket.app.state.connections
    connection_id = await manager.connect(websocket)
    try:
        while True:
            text = await websocket.receive_text()
            await websocket.send_json({"type": "echo", "text": text})
            await manager.broadcast({"type": "broadcast", "from": connection_id, "text": text})
    except WebSocketDisconnect:
        manager.disconnect(connection_id)
