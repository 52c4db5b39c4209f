//! `input_reference`: the image that becomes the first frame. Accepted as an uploaded file part,
//! a Files API `file_id`, a `data:` URL or an `http(s)` URL (fetched under the egress policy, with size and time limits),
//! checked to decode whole as JPEG, PNG or WebP, and stored as a blob. An image of another size
//! is fitted by the engine (scale-to-cover, centre-crop) unless `strict_reference_size = true`
//! asks for OpenAI's 400.

use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use kinora_core::{ErrorCode, VideoSize};

use crate::egress;
use crate::error::{ApiError, ApiResult};
use crate::form::Form;
use crate::openapi::bodies::ImageReference;
use crate::state::AppState;

pub const PARAM: &str = "input_reference";

/// Takes the reference (an uploaded file part, or the body's `input_reference` object), if any,
/// validates it and stores it; returns its blob key.
pub async fn take(
    state: &AppState,
    project: &str,
    form: &mut Form,
    given: Option<ImageReference>,
    size: VideoSize,
    video_id: &str,
) -> ApiResult<Option<String>> {
    let named = given.is_some();
    let (url, file_id) = given.map_or((None, None), |r| (r.image_url, r.file_id));
    let upload = form.take_file(PARAM);
    let count =
        usize::from(url.is_some()) + usize::from(file_id.is_some()) + usize::from(upload.is_some());
    if count == 0 {
        // `{}`: named, yet neither a URL nor a file id.
        if named {
            return Err(ApiError::invalid(
                PARAM,
                ErrorCode::InvalidType,
                "'input_reference' is empty; it takes an image file, {\"image_url\": ...} or \
                 {\"file_id\": ...}.",
            ));
        }
        return Ok(None);
    }
    if count > 1 {
        return Err(bad(
            "Provide exactly one of an uploaded file, image_url or file_id in input_reference.",
        ));
    }
    let max = state.settings.image_fetch.max_bytes;
    let bytes = match (upload, url, file_id) {
        (Some(up), _, _) => {
            if up.size as usize > max {
                return Err(bad(format!(
                    "The input_reference image is larger than {max} bytes."
                )));
            }
            Bytes::from(
                tokio::fs::read(up.file.path())
                    .await
                    .map_err(ApiError::internal)?,
            )
        }
        (None, Some(url), _) => fetch_url(state, &url).await?,
        (None, None, Some(file_id)) => from_file(state, project, &file_id).await?,
        (None, None, None) => return Ok(None),
    };
    check_image(&bytes, size, state.settings.strict_reference_size)?;
    let key = format!("inputs/{video_id}/reference");
    state.blobs.put_bytes(&key, bytes).await?;
    Ok(Some(key))
}

/// An image uploaded earlier through the Files API (`purpose` `vision` or `user_data`).
async fn from_file(state: &AppState, project: &str, file_id: &str) -> ApiResult<Bytes> {
    let now = kinora_core::clock::now_unix();
    let file = if kinora_core::ids::looks_like(file_id, "file-") {
        state.store.get_file(project, file_id, now).await?
    } else {
        None
    };
    let file = file.ok_or_else(|| {
        ApiError::invalid(
            PARAM,
            ErrorCode::FileNotFound,
            format!("No file found with id '{file_id}' for input_reference.file_id."),
        )
    })?;
    if !matches!(file.purpose.as_str(), "vision" | "user_data") {
        return Err(bad(format!(
            "File '{file_id}' has purpose '{}'; an input_reference image must be uploaded with purpose 'vision' or 'user_data'.",
            file.purpose
        )));
    }
    let max = state.settings.image_fetch.max_bytes;
    if file.bytes as usize > max {
        return Err(bad(format!(
            "The input_reference image is larger than {max} bytes."
        )));
    }
    Ok(state.blobs.get_bytes(&file.blob_key()).await?)
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::invalid(PARAM, ErrorCode::InvalidInputReference, message)
}

/// Pixels an image may have (an 8K photo is 33 MP): what a full decode may allocate.
const MAX_PIXELS: u64 = 40_000_000;

/// Decodes only the header for the size, then the whole image to catch truncated files early
/// (a bad image must be a 400 now, not a failed job later). With `strict`, the image must be
/// exactly the requested size, as OpenAI requires.
pub fn check_image(bytes: &[u8], size: VideoSize, strict: bool) -> ApiResult<()> {
    let format = image::guess_format(bytes)
        .map_err(|_| bad("input_reference is not an image (expected JPEG, PNG or WebP)."))?;
    if !matches!(
        format,
        image::ImageFormat::Jpeg | image::ImageFormat::Png | image::ImageFormat::WebP
    ) {
        return Err(bad(format!(
            "input_reference must be JPEG, PNG or WebP, not {format:?}."
        )));
    }
    let undecodable =
        |e: image::ImageError| bad(format!("input_reference could not be decoded: {e}"));
    // The header first: a wrong size (or a decompression bomb) is refused before any pixels
    // are allocated.
    let (width, height) = image::ImageReader::with_format(std::io::Cursor::new(bytes), format)
        .into_dimensions()
        .map_err(undecodable)?;
    if strict && (width, height) != (size.width, size.height) {
        return Err(bad(format!(
            "input_reference must match the requested size {size}; the image is {width}x{height}."
        )));
    }
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(bad(format!(
            "input_reference is {width}x{height}; images of at most {MAX_PIXELS} pixels are taken."
        )));
    }
    // The JPEG decoder fills a cut-off scan with grey rather than failing: a JPEG must end
    // with its end-of-image marker (trailing padding aside) to count as whole.
    if format == image::ImageFormat::Jpeg && !jpeg_is_complete(bytes) {
        return Err(bad(
            "input_reference could not be decoded: the JPEG is truncated (no end-of-image marker).",
        ));
    }
    image::load_from_memory_with_format(bytes, format).map_err(undecodable)?;
    Ok(())
}

fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let end = bytes
        .iter()
        .rposition(|b| *b != 0 && *b != b'\n' && *b != b'\r' && *b != b' ')
        .map_or(0, |i| i + 1);
    end >= 4 && bytes[..end].ends_with(&[0xFF, 0xD9])
}

async fn fetch_url(state: &AppState, url: &str) -> ApiResult<Bytes> {
    let limits = &state.settings.image_fetch;
    if let Some(rest) = url.strip_prefix("data:") {
        let (meta, data) = rest
            .split_once(',')
            .ok_or_else(|| bad("Malformed data: URL in input_reference.image_url."))?;
        if !meta.ends_with(";base64") {
            return Err(bad(
                "data: URLs in input_reference.image_url must be base64-encoded.",
            ));
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .map_err(|_| bad("The data: URL in input_reference.image_url is not valid base64."))?;
        if decoded.len() > limits.max_bytes {
            return Err(bad(format!(
                "The input_reference image is larger than {} bytes.",
                limits.max_bytes
            )));
        }
        return Ok(Bytes::from(decoded));
    }
    let parsed = reqwest::Url::parse(url)
        .map_err(|_| bad("input_reference.image_url is not a valid URL."))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad(
            "input_reference.image_url must be an http(s) or data: URL.",
        ));
    }
    let host = parsed
        .host_str()
        .ok_or_else(|| bad("input_reference.image_url has no host."))?;
    let port = parsed.port_or_known_default().unwrap_or(443);
    let addrs =
        egress::resolve_allowed(host, port, limits.danger_allow_private, "input_reference").await?;
    let client = reqwest::Client::builder()
        .resolve_to_addrs(host, &addrs)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(limits.timeout_seconds))
        .build()
        .map_err(ApiError::internal)?;
    let mut resp = client
        .get(parsed.clone())
        .send()
        .await
        .map_err(|e| bad(format!("Fetching input_reference.image_url failed: {e}")))?;
    if !resp.status().is_success() {
        return Err(bad(format!(
            "Fetching input_reference.image_url returned HTTP {}.",
            resp.status()
        )));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| bad(format!("Reading input_reference.image_url failed: {e}")))?
    {
        if body.len() + chunk.len() > limits.max_bytes {
            return Err(bad(format!(
                "The input_reference image is larger than {} bytes.",
                limits.max_bytes
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let img = image::RgbImage::from_pixel(width, height, image::Rgb([40, 90, 200]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut c = 0xFFFF_FFFFu32;
        for &b in data {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = if c & 1 == 1 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
        !c
    }

    fn message(r: ApiResult<()>) -> String {
        r.unwrap_err().public().3
    }

    fn jpeg(width: u32, height: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x * 7) as u8, (y * 5) as u8, ((x ^ y) * 3) as u8])
        });
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
        out.into_inner()
    }

    #[test]
    fn images_of_another_size_are_taken_unless_strict() {
        let size: VideoSize = "128x72".parse().unwrap();
        assert!(check_image(&png(128, 72), size, false).is_ok());
        assert!(check_image(&png(64, 64), size, false).is_ok());
        assert!(check_image(&png(128, 72), size, true).is_ok());
        let wrong = message(check_image(&png(64, 64), size, true));
        assert!(wrong.contains("the image is 64x64"), "{wrong}");
    }

    #[test]
    fn truncated_images_are_refused() {
        let size: VideoSize = "128x72".parse().unwrap();
        let mut truncated = png(128, 72);
        truncated.truncate(truncated.len() / 2);
        let cut = message(check_image(&truncated, size, false));
        assert!(cut.contains("could not be decoded"), "{cut}");
        let whole = jpeg(320, 180);
        assert!(check_image(&whole, size, false).is_ok());
        let third = &whole[..whole.len() / 3];
        let cut = message(check_image(third, size, false));
        assert!(cut.contains("truncated"), "{cut}");
    }

    /// A header claiming 40000x40000 (6.4 GB of pixels) is refused by its size, from the header
    /// alone, never handed to the decoder.
    #[test]
    fn a_decompression_bomb_is_refused_from_its_header() {
        let mut bomb = png(64, 64);
        // IHDR: length (4) "IHDR" (4) width (4) height (4) ... CRC over type + data (13 bytes).
        let ihdr = 8 + 4;
        bomb[ihdr + 4..ihdr + 8].copy_from_slice(&40_000u32.to_be_bytes());
        bomb[ihdr + 8..ihdr + 12].copy_from_slice(&40_000u32.to_be_bytes());
        let crc = crc32(&bomb[ihdr..ihdr + 4 + 13]);
        bomb[ihdr + 17..ihdr + 21].copy_from_slice(&crc.to_be_bytes());
        let refused = message(check_image(&bomb, "1280x720".parse().unwrap(), false));
        assert!(refused.contains("is 40000x40000"), "{refused}");
    }
}
