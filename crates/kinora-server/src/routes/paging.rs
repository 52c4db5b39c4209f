//! Cursor pagination shared by every list endpoint: OpenAI's `after` / `limit` / `order`.

use kinora_core::ErrorCode;
use kinora_store::{Order, Page, StoreError};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::{ApiError, ApiResult};

/// Read as strings so a bad value gets the contract's 400 envelope instead of axum's rejection.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// The id of the last item of the previous page (its `last_id`); not empty.
    #[param(min_length = 1)]
    pub after: Option<String>,
    /// Page size, 0-100 (default 20); 0 only reports `has_more`.
    #[param(value_type = Option<u32>, minimum = 0, maximum = 100)]
    pub limit: Option<String>,
    /// By creation time; default `desc` (newest first).
    #[param(value_type = Option<crate::openapi::bodies::ListOrder>)]
    pub order: Option<String>,
}

#[derive(Debug)]
pub struct Cursor {
    pub after: Option<String>,
    pub limit: u32,
    pub order: Order,
}

/// A list endpoint's `limit` bounds and default, from OpenAI's document.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub min: u32,
    pub max: u32,
    pub default: u32,
}

/// Videos, characters, batches, webhooks: 0-100, default 20.
pub const PAGE: Limits = Limits {
    min: 0,
    max: 100,
    default: 20,
};

/// An empty value (`?order=`) is a mistake, not a default: the client meant something.
fn empty_is_invalid(param: &str, value: Option<&str>) -> ApiResult<()> {
    if value == Some("") {
        return Err(ApiError::invalid(
            param,
            ErrorCode::EmptyValue,
            format!("{param} was given without a value; omit it or give one."),
        ));
    }
    Ok(())
}

impl Cursor {
    /// `limit` 0–100 (the contract's bounds, default 20), `order` `desc` by default.
    pub fn parse(q: &ListQuery) -> ApiResult<Cursor> {
        Cursor::parse_within(q, PAGE)
    }

    pub fn parse_within(q: &ListQuery, bounds: Limits) -> ApiResult<Cursor> {
        empty_is_invalid("limit", q.limit.as_deref())?;
        empty_is_invalid("order", q.order.as_deref())?;
        empty_is_invalid("after", q.after.as_deref())?;
        let Limits { min, max, default } = bounds;
        let limit = match q.limit.as_deref() {
            None => default,
            Some(s) => s
                .parse::<u32>()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .ok_or_else(|| {
                    ApiError::invalid(
                        "limit",
                        ErrorCode::InvalidLimit,
                        format!("limit must be an integer from {min} to {max}."),
                    )
                })?,
        };
        let order = match q.order.as_deref() {
            None | Some("desc") => Order::Desc,
            Some("asc") => Order::Asc,
            Some(other) => {
                return Err(ApiError::invalid(
                    "order",
                    ErrorCode::InvalidOrder,
                    format!("order must be 'asc' or 'desc', not '{other}'."),
                ));
            }
        };
        Ok(Cursor {
            after: q.after.clone(),
            limit,
            order,
        })
    }

    /// `limit=0` asks only whether anything is there: fetch one row for `has_more`.
    pub fn fetch_limit(&self) -> u32 {
        self.limit.max(1)
    }

    /// Maps an unknown cursor to a 400 naming it, and trims the probe row of a `limit=0` page.
    pub fn finish<T>(&self, page: Result<Page<T>, StoreError>, kind: &str) -> ApiResult<Page<T>> {
        let mut page = page.map_err(|e| match e {
            StoreError::NotFound => ApiError::invalid(
                "after",
                ErrorCode::InvalidCursor,
                format!(
                    "No {kind} found with id '{}' to page after.",
                    self.after.as_deref().unwrap_or_default()
                ),
            ),
            other => other.into(),
        })?;
        if self.limit == 0 {
            page.has_more = !page.items.is_empty();
            page.items.clear();
        }
        Ok(page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(limit: Option<&str>, order: Option<&str>) -> ListQuery {
        ListQuery {
            after: None,
            limit: limit.map(str::to_string),
            order: order.map(str::to_string),
        }
    }

    #[test]
    fn bounds_and_defaults() {
        let c = Cursor::parse(&q(None, None)).unwrap();
        assert_eq!((c.limit, c.order), (20, Order::Desc));
        assert_eq!(
            Cursor::parse(&q(Some("0"), Some("asc")))
                .unwrap()
                .fetch_limit(),
            1
        );
        assert!(Cursor::parse(&q(Some("101"), None)).is_err());
        assert!(Cursor::parse(&q(Some("-1"), None)).is_err());
        assert!(Cursor::parse(&q(None, Some("sideways"))).is_err());
    }
}
