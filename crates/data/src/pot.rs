//! CASIA online `.pot` files (being written).
