//! The live channel: Server-Sent Events filtered by what the caller may see.

use crate::error::ApiResult;
use crate::extract::Authn;
use crate::state::AppState;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use haidang_core::Permission;
use std::convert::Infallible;
use std::time::Duration;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(events))
}

struct LiveGuard(AppState);

impl Drop for LiveGuard {
    fn drop(&mut self) {
        self.0.metrics.live_clients.dec();
    }
}

/// Server-Sent Events: `hello` on connect, then `{topic, data}` for changes the caller may see.
/// Unit-bound events reach those who may read the unit; others reach everyone logged in.
#[utoipa::path(get, path = "/api/events", tag = "live", responses((status = 200, description = "text/event-stream")))]
async fn events(
    State(state): State<AppState>,
    authn: Authn,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let closed = state.live.closed();
    state.metrics.live_clients.inc();
    let guard = LiveGuard(state.clone());
    let principal = authn.principal.clone();
    let hello = tokio_stream::once(Ok(Event::default().event("hello").data(r#"{"topic":"hello"}"#)));
    let stream_state = state.clone();
    let updates = BroadcastStream::new(state.live.subscribe()).filter_map(move |item| {
        let _keep = &guard;
        match item {
            Ok(ev) => {
                let visible = ev.unit.is_none_or(|u| principal.can_at(Permission::OrgRead, u, &stream_state.tree()));
                visible.then(|| {
                    let body = serde_json::json!({ "topic": ev.topic, "data": ev.data });
                    Ok(Event::default().event("update").data(body.to_string()))
                })
            }
            // The client fell behind: tell it to reload rather than silently missing changes.
            Err(BroadcastStreamRecvError::Lagged(n)) => {
                Some(Ok(Event::default().event("lagged").data(format!(r#"{{"topic":"lagged","missed":{n}}}"#))))
            }
        }
    });
    let stream = futures_util::StreamExt::take_until(hello.chain(updates), closed);
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(20))))
}
