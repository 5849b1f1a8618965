//! The `floodgate` command (thin: argument parsing and printing; the work is in floodgate-core).
fn main() {
    println!("floodgate");
}
