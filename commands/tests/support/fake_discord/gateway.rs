//! The fake's websocket gateway: hello, identify, READY and the guild, heartbeats, and the
//! dispatches a test sends to the newest connection.

use super::*;

pub(super) async fn ws_upgrade(
    State(shared): State<Arc<Shared>>,
    ws: WebSocketUpgrade,
) -> Response {
    ws.on_upgrade(move |socket| gateway(shared, socket))
}

static SESSIONS: AtomicU64 = AtomicU64::new(1);

async fn send(socket: &mut WebSocket, v: Value) -> bool {
    socket
        .send(WsMessage::Text(v.to_string().into()))
        .await
        .is_ok()
}

async fn gateway(shared: Arc<Shared>, mut socket: WebSocket) {
    if !send(
        &mut socket,
        json!({"op": 10, "d": {"heartbeat_interval": 45000}}),
    )
    .await
    {
        return;
    }
    // Wait for IDENTIFY (answering heartbeats meanwhile).
    loop {
        let Some(Ok(WsMessage::Text(text))) = socket.recv().await else {
            return;
        };
        let v: Value = serde_json::from_str(text.as_str()).unwrap_or(Value::Null);
        match v["op"].as_u64() {
            Some(2) => {
                record(&shared, "WS", "IDENTIFY", v["d"].clone(), vec![]);
                break;
            }
            Some(1) => {
                let _ = send(&mut socket, json!({"op": 11})).await;
            }
            _ => record(&shared, "WS", &format!("op{}", v["op"]), v, vec![]),
        }
    }
    let addr = shared.addr.lock().unwrap().expect("addr");
    let session = SESSIONS.fetch_add(1, Ordering::SeqCst);
    // Registered before READY: the bot may answer READY (register commands) at once.
    let (tx, mut rx) = mpsc::unbounded_channel::<(String, Value)>();
    shared
        .conns
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(tx);
    let mut seq = 1u64;
    if !send(
        &mut socket,
        json!({"op": 0, "s": seq, "t": "READY", "d": ready_json(addr, session)}),
    )
    .await
    {
        return;
    }
    seq += 1;
    let guild = guild_json(&[
        (super::super::fixtures::ADMIN_ROLE, "Plex admin"),
        (super::super::fixtures::MEMBER_ROLE, "Member"),
    ]);
    if !send(
        &mut socket,
        json!({"op": 0, "s": seq, "t": "GUILD_CREATE", "d": guild}),
    )
    .await
    {
        return;
    }
    record(
        &shared,
        "WS",
        "READY_SENT",
        json!({"session": session}),
        vec![],
    );
    loop {
        tokio::select! {
            frame = socket.recv() => match frame {
                Some(Ok(WsMessage::Text(text))) => {
                    let v: Value = serde_json::from_str(text.as_str()).unwrap_or(Value::Null);
                    if v["op"] == 1 {
                        if !send(&mut socket, json!({"op": 11})).await { break; }
                    } else {
                        record(&shared, "WS", &format!("op{}", v["op"]), v, vec![]);
                    }
                }
                Some(Ok(WsMessage::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
            ev = rx.recv() => {
                let Some((t, d)) = ev else { break };
                seq += 1;
                if !send(&mut socket, json!({"op": 0, "s": seq, "t": t, "d": d})).await { break; }
            }
        }
    }
    record(&shared, "WS", "CLOSED", json!({"session": session}), vec![]);
}
