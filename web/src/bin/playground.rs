//! The playground's entry point: trunk builds this binary from the root `index.html`.

fn main() {
    redlet_web::app::start();
}
