//! kinora-media
