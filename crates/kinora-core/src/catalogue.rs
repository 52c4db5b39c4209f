//! The model catalogue: every public model id, the engine that renders it, and its limits and
//! prices.
//!
//! The Sora ids are kept so existing code runs unchanged; on a stock install they are served by
//! the built-in storyboard engine, and the catalogue says so instead of pretending otherwise.
//! Operators map ids to other engines (GPU worker pools) in settings.

use serde::{Deserialize, Serialize};

use crate::ErrorCode;
use crate::seconds::Seconds;
use crate::size::VideoSize;
use crate::validation::Invalid;

/// The sizes one price applies to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PriceTier {
    pub resolution: String,
    pub sizes: Vec<VideoSize>,
    /// USD per second of generated video.
    pub price_per_second: f64,
    /// USD per second when submitted through the Batch API.
    pub batch_price_per_second: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelSpec {
    pub id: String,
    /// Which engine renders this model: `builtin` (in-process CPU renderer) or a worker pool name.
    pub engine: String,
    pub description: String,
    pub created: i64,
    pub tiers: Vec<PriceTier>,
    pub seconds: Vec<u32>,
    pub features: Vec<String>,
}

impl ModelSpec {
    pub fn sizes(&self) -> impl Iterator<Item = VideoSize> + '_ {
        self.tiers.iter().flat_map(|t| t.sizes.iter().copied())
    }

    pub fn tier(&self, size: VideoSize) -> Option<&PriceTier> {
        self.tiers.iter().find(|t| t.sizes.contains(&size))
    }

    pub fn supports(&self, feature: &str) -> bool {
        self.features.iter().any(|f| f == feature)
    }

    /// Checks a size against this model, with the message a user needs to fix the request.
    pub fn check_size(&self, size: VideoSize) -> Result<(), Invalid> {
        if self.tier(size).is_some() {
            return Ok(());
        }
        let allowed: Vec<String> = self.sizes().map(|s| s.to_string()).collect();
        let hint = if size.short_side() >= 1080 {
            " (1080p is available on sora-2-pro)"
        } else {
            ""
        };
        Err(Invalid::new(
            "size",
            ErrorCode::InvalidSize,
            format!(
                "size {size} is not supported by model {}{hint}; supported sizes: {}",
                self.id,
                allowed.join(", ")
            ),
        ))
    }

    pub fn check_seconds(&self, seconds: Seconds) -> Result<(), Invalid> {
        if self.seconds.contains(&seconds.get()) {
            return Ok(());
        }
        let allowed: Vec<String> = self.seconds.iter().map(|s| format!("\"{s}\"")).collect();
        Err(Invalid::new(
            "seconds",
            ErrorCode::InvalidSeconds,
            format!(
                "seconds {seconds} is not supported by model {}; supported values: {}",
                self.id,
                allowed.join(", ")
            ),
        ))
    }

    /// Cost of `seconds` of video at `size`, in USD. Sizes outside the catalogue (uploaded
    /// sources of odd sizes being edited) are priced at the model's cheapest tier.
    pub fn cost_usd(&self, size: VideoSize, seconds: u32, batch: bool) -> f64 {
        let tier = self.tier(size).or_else(|| self.tiers.first());
        let rate = tier.map_or(0.0, |t| {
            if batch {
                t.batch_price_per_second
            } else {
                t.price_per_second
            }
        });
        // Whole cents avoid float noise like 0.30000000000000004 in the API's usage field.
        (rate * f64::from(seconds) * 100.0).round() / 100.0
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Catalogue {
    pub models: Vec<ModelSpec>,
    pub default_model: String,
}

const FEATURES: [&str; 7] = [
    "text_to_video",
    "image_to_video",
    "characters",
    "extensions",
    "edits",
    "remix",
    "audio",
];

const BUILTIN_NOTE: &str = "Served by Kinora's built-in engine: a fast, deterministic \
     procedural storyboard (animatic) renderer on the CPU, not a diffusion model.";

fn tier(resolution: &str, sizes: &[(u32, u32)], price: f64) -> PriceTier {
    PriceTier {
        resolution: resolution.to_string(),
        sizes: sizes.iter().map(|&(w, h)| VideoSize::new(w, h)).collect(),
        price_per_second: price,
        batch_price_per_second: price / 2.0,
    }
}

fn model(id: &str, created: i64, tiers: Vec<PriceTier>) -> ModelSpec {
    ModelSpec {
        id: id.to_string(),
        engine: "builtin".to_string(),
        description: BUILTIN_NOTE.to_string(),
        created,
        tiers,
        seconds: Seconds::ALLOWED.to_vec(),
        features: FEATURES.iter().map(|f| f.to_string()).collect(),
    }
}

impl Catalogue {
    /// The contract's five model ids, priced as OpenAI priced them, all on the built-in engine.
    pub fn builtin() -> Catalogue {
        let std_tiers = || vec![tier("720p", &[(720, 1280), (1280, 720)], 0.10)];
        let pro_tiers = || {
            vec![
                tier("720p", &[(720, 1280), (1280, 720)], 0.30),
                tier("1024p", &[(1024, 1792), (1792, 1024)], 0.50),
                tier("1080p", &[(1080, 1920), (1920, 1080)], 0.70),
            ]
        };
        Catalogue {
            default_model: "sora-2".to_string(),
            models: vec![
                model("sora-2", 1_759_708_800, std_tiers()),
                model("sora-2-2025-12-08", 1_765_152_000, std_tiers()),
                model("sora-2-2025-10-06", 1_759_708_800, std_tiers()),
                model("sora-2-pro", 1_759_708_800, pro_tiers()),
                model("sora-2-pro-2025-10-06", 1_759_708_800, pro_tiers()),
            ],
        }
    }

    pub fn get(&self, id: &str) -> Option<&ModelSpec> {
        self.models.iter().find(|m| m.id == id)
    }

    /// Resolves the `model` field of a request (absent means the default model).
    pub fn resolve(&self, requested: Option<&str>) -> Result<&ModelSpec, Invalid> {
        let id = requested
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .unwrap_or(&self.default_model);
        self.get(id).ok_or_else(|| {
            let known: Vec<&str> = self.models.iter().map(|m| m.id.as_str()).collect();
            Invalid::new(
                "model",
                ErrorCode::InvalidModel,
                format!(
                    "model '{id}' does not exist; available models: {}",
                    known.join(", ")
                ),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_table() {
        let c = Catalogue::builtin();
        let std = c.resolve(None).unwrap();
        assert_eq!(std.id, "sora-2");
        assert!(std.check_size(VideoSize::new(1280, 720)).is_ok());
        let err = std.check_size(VideoSize::new(1920, 1080)).unwrap_err();
        assert_eq!(err.param, "size");
        assert!(err.message.contains("sora-2-pro"));
        let pro = c.resolve(Some("sora-2-pro")).unwrap();
        assert!(pro.check_size(VideoSize::new(1080, 1920)).is_ok());
        assert!(pro.check_seconds(Seconds(20)).is_ok());
        assert!(pro.check_seconds(Seconds(5)).is_err());
        assert_eq!(c.resolve(Some("dall-e")).unwrap_err().param, "model");
    }

    #[test]
    fn prices() {
        let c = Catalogue::builtin();
        let pro = c.get("sora-2-pro").unwrap();
        assert_eq!(pro.cost_usd(VideoSize::new(1920, 1080), 20, false), 14.0);
        assert_eq!(pro.cost_usd(VideoSize::new(1920, 1080), 20, true), 7.0);
        assert_eq!(
            c.get("sora-2")
                .unwrap()
                .cost_usd(VideoSize::new(720, 1280), 8, false),
            0.8
        );
    }
}
