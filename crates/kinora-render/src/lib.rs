//! kinora-render
