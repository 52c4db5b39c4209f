//! kinora-server
