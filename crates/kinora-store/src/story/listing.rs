//! Scenarios for pagination and project isolation.

use std::sync::Arc;

use super::catalogue::character;
use super::{T0, video};
use crate::error::StoreError;
use crate::metadata::MetadataStore;
use crate::record::Order;

type Store = Arc<dyn MetadataStore>;

fn owned(ids: &[&str]) -> Vec<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

async fn ids(
    store: &Store,
    project: &str,
    after: Option<&str>,
    limit: u32,
    order: Order,
) -> (Vec<String>, bool) {
    let page = store
        .list_videos(project, after, limit, order)
        .await
        .unwrap();
    (
        page.items.into_iter().map(|v| v.id).collect(),
        page.has_more,
    )
}

pub(crate) async fn pages_asc_desc(store: Store) {
    // Ids sort differently from creation order, so an id-ordered list would fail.
    let created = ["video_e", "video_a", "video_d", "video_b", "video_c"];
    for id in created {
        store.create_video(video("p", id), None).await.unwrap();
    }
    let (page1, more1) = ids(&store, "p", None, 2, Order::Asc).await;
    assert_eq!((page1, more1), (owned(&["video_e", "video_a"]), true));
    let (page2, more2) = ids(&store, "p", Some("video_a"), 2, Order::Asc).await;
    assert_eq!((page2, more2), (owned(&["video_d", "video_b"]), true));
    let (page3, more3) = ids(&store, "p", Some("video_b"), 2, Order::Asc).await;
    assert_eq!((page3, more3), (owned(&["video_c"]), false));
    // Exactly `limit` remaining: has_more is false.
    let (last, more) = ids(&store, "p", Some("video_d"), 2, Order::Asc).await;
    assert_eq!((last, more), (owned(&["video_b", "video_c"]), false));

    let (desc, more) = ids(&store, "p", None, 3, Order::Desc).await;
    assert_eq!(
        (desc, more),
        (owned(&["video_c", "video_b", "video_d"]), true)
    );
    let (desc2, more) = ids(&store, "p", Some("video_d"), 3, Order::Desc).await;
    assert_eq!((desc2, more), (owned(&["video_a", "video_e"]), false));
    let (all, more) = ids(&store, "p", None, 100, Order::Desc).await;
    assert_eq!((all.len(), more), (5, false));

    let unknown = store
        .list_videos("p", Some("video_zzz"), 2, Order::Asc)
        .await;
    assert!(matches!(unknown, Err(StoreError::NotFound)), "{unknown:?}");

    // A deleted video drops out of pages but still works as the cursor a client already holds.
    store
        .delete_video("p", "video_d", T0)
        .await
        .unwrap()
        .unwrap();
    let (after_deleted, more) = ids(&store, "p", Some("video_d"), 10, Order::Asc).await;
    assert_eq!(
        (after_deleted, more),
        (owned(&["video_b", "video_c"]), false)
    );
    let (all, _) = ids(&store, "p", None, 100, Order::Asc).await;
    assert_eq!(all, ["video_e", "video_a", "video_b", "video_c"]);
}

pub(crate) async fn project_isolation(store: Store) {
    for (project, id) in [
        ("p", "video_1"),
        ("q", "video_2"),
        ("p", "video_3"),
        ("q", "video_4"),
    ] {
        store.create_video(video(project, id), None).await.unwrap();
    }
    assert_eq!(
        ids(&store, "p", None, 10, Order::Asc).await.0,
        ["video_1", "video_3"]
    );
    assert_eq!(
        ids(&store, "q", None, 10, Order::Desc).await.0,
        ["video_4", "video_2"]
    );
    assert_eq!(
        ids(&store, "r", None, 10, Order::Desc).await,
        (vec![], false)
    );
    let foreign_cursor = store
        .list_videos("p", Some("video_2"), 10, Order::Asc)
        .await;
    assert!(
        matches!(foreign_cursor, Err(StoreError::NotFound)),
        "{foreign_cursor:?}"
    );
    assert_eq!(store.get_video("q", "video_1").await.unwrap(), None);
    assert_eq!(store.delete_video("q", "video_1", T0).await.unwrap(), None);
    assert!(store.get_video("p", "video_1").await.unwrap().is_some());
}

pub(crate) async fn characters_pages(store: Store) {
    for (i, id) in ["char_c", "char_a", "char_b"].iter().enumerate() {
        store
            .create_character(character("p", id, T0 + i as i64))
            .await
            .unwrap();
    }
    store
        .create_character(character("q", "char_z", T0))
        .await
        .unwrap();
    let page = store
        .list_characters("p", None, 2, Order::Asc)
        .await
        .unwrap();
    let got: Vec<_> = page.items.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        (got.as_slice(), page.has_more),
        (&["char_c", "char_a"][..], true)
    );
    let page = store
        .list_characters("p", Some("char_a"), 2, Order::Asc)
        .await
        .unwrap();
    let got: Vec<_> = page.items.iter().map(|c| c.id.as_str()).collect();
    assert_eq!((got.as_slice(), page.has_more), (&["char_b"][..], false));
    let page = store
        .list_characters("p", None, 5, Order::Desc)
        .await
        .unwrap();
    let got: Vec<_> = page.items.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(got, ["char_b", "char_a", "char_c"]);
    let unknown = store
        .list_characters("p", Some("char_z"), 2, Order::Asc)
        .await;
    assert!(matches!(unknown, Err(StoreError::NotFound)), "{unknown:?}");
}
