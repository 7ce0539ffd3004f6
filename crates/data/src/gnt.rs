//! CASIA-HWDB offline `.gnt` files (being written).
