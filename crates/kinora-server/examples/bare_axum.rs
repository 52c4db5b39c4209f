//! The yardstick for `scripts/bench-api.sh`: a bare axum handler answering a video-sized JSON
//! body, so the benchmark can report Kinora's retrieve throughput as a ratio of what axum itself
//! does on the same machine.

use axum::Router;
use axum::routing::get;

const BODY: &str = r#"{"id":"video_0123456789abcdef0123456789abcdef","object":"video","model":"sora-2","status":"queued","progress":0,"created_at":1763776800,"completed_at":null,"expires_at":null,"prompt":"a red fox","size":"720x1280","seconds":"4","remixed_from_video_id":null,"error":null}"#;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let app = Router::new().route(
        "/v1/videos/{id}",
        get(|| async { ([("content-type", "application/json")], BODY) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("bare listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}
