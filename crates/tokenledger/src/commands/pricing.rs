use crate::cli::{Format, PricingArgs};
use crate::context::Context;
use std::process::ExitCode;
use tokenledger_core::pricing::{ModelPrice, PriceOrigin};

pub fn run(ctx: &Context, args: PricingArgs) -> anyhow::Result<ExitCode> {
    let prices = ctx.prices()?;
    let json = args.format == Format::Json;
    match &args.model {
        Some(model) => match prices.lookup(model) {
            Some(found) => {
                if json {
                    let value = entry_json(found.key, found.price, found.origin);
                    println!(
                        "{}",
                        serde_json::to_string_pretty(
                            &serde_json::json!({"schema_version": 1, "model": model, "price": value})
                        )?
                    );
                } else {
                    println!("model:   {model}");
                    println!("matches: {}", found.key);
                    println!("source:  {}", describe_origin(found.origin));
                    print_price(found.price);
                }
                Ok(ExitCode::SUCCESS)
            }
            None => {
                if json {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(
                            &serde_json::json!({"schema_version": 1, "model": model, "price": null})
                        )?
                    );
                }
                eprintln!(
                    "tokenledger: {model:?} is unpriced: no price table knows it. Costs for it are shown as \
                     unpriced, never $0. Add it under [pricing.models.\"{model}\"] in {}",
                    ctx.config_path.display()
                );
                Ok(ExitCode::FAILURE)
            }
        },
        None => {
            if json {
                let models: Vec<_> = prices
                    .models()
                    .map(|(k, p, o)| entry_json(k, p, o))
                    .collect();
                println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &serde_json::json!({"schema_version": 1, "snapshot": prices.snapshot_version(), "models": models})
                    )?
                );
            } else {
                println!(
                    "{:<44} {:>9} {:>9} {:>9} {:>9} {:>9}  source",
                    "model (USD per 1M tokens)", "input", "output", "c.read", "c.w 5m", "c.w 1h"
                );
                for (key, p, origin) in prices.models() {
                    println!(
                        "{key:<44} {:>9} {:>9} {:>9} {:>9} {:>9}  {}",
                        usd(p.input),
                        usd(p.output),
                        usd(p.cache_read),
                        usd(p.cache_write_5m),
                        usd(p.cache_write_1h),
                        describe_origin(origin)
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print_price(p: &ModelPrice) {
    println!("USD per 1M tokens:");
    println!("  input          {}", usd(p.input));
    println!("  output         {}", usd(p.output));
    println!("  cache read     {}", usd(p.cache_read));
    println!("  cache write 5m {}", usd(p.cache_write_5m));
    println!("  cache write 1h {}", usd(p.cache_write_1h));
    if let Some(lc) = &p.long_context {
        println!(
            "  above {} prompt tokens: input {}, output {}, cache read {}, cache write 5m {}, 1h {}",
            lc.threshold,
            usd(lc.input),
            usd(lc.output),
            usd(lc.cache_read),
            usd(lc.cache_write_5m),
            usd(lc.cache_write_1h)
        );
    }
    if let Some(fast) = p.fast_multiplier {
        println!("  fast mode      x{fast}");
    }
}

fn usd(v: f64) -> String {
    format!("{v}")
}

fn describe_origin(origin: &PriceOrigin) -> String {
    match origin {
        PriceOrigin::Config { path } => match path {
            Some(p) => format!("config {}", p.display()),
            None => "config".to_string(),
        },
        PriceOrigin::LiteLlmFile { path } => format!("LiteLLM file {}", path.display()),
        PriceOrigin::Embedded { snapshot } => format!("embedded ({snapshot})"),
        PriceOrigin::Supplement => "embedded supplement".to_string(),
    }
}

fn entry_json(key: &str, p: &ModelPrice, origin: &PriceOrigin) -> serde_json::Value {
    serde_json::json!({
        "key": key,
        "source": describe_origin(origin),
        "input": p.input,
        "output": p.output,
        "cache_read": p.cache_read,
        "cache_write_5m": p.cache_write_5m,
        "cache_write_1h": p.cache_write_1h,
        "long_context": p.long_context.as_ref().map(|lc| serde_json::json!({
            "threshold": lc.threshold, "input": lc.input, "output": lc.output,
            "cache_read": lc.cache_read, "cache_write_5m": lc.cache_write_5m, "cache_write_1h": lc.cache_write_1h,
        })),
        "fast_multiplier": p.fast_multiplier,
    })
}
