//! Closed sets of names (statuses, kinds, events) written once.
//!
//! [`names!`] declares a Rust enum together with its wire names, a parser, its JSON form ([`crate::to_json`]), and a TypeScript
//! union type (`TS`) that the boundary emits into the generated `.d.ts`. The worker gets the same names at run time
//! from the `names()` export, so no status string is spelled anywhere but here.

/// Declares `enum $name` whose variants are written as `$text`, and the TypeScript type `$ts` of those texts.
#[macro_export]
macro_rules! names {
    (
        $(#[$meta:meta])*
        pub enum $name:ident as $ts:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// `export type <Name> = | "a" | "b";` for the generated TypeScript declarations.
            pub const TS: &'static str =
                concat!("export type ", $ts, " =", $(" | \"", $text, "\""),+, ";\n");

            /// The wire name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $text ),+
                }
            }

            /// Reads a wire name exactly (names are written by the core, so no case folding).
            pub fn parse(s: &str, field: &str) -> $crate::error::Result<$name> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s).ok_or_else(|| {
                    let all: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                    $crate::error::CoreError::invalid(
                        field,
                        format!("must be one of {}, got \"{}\"", all.join(", "),
                            s.chars().take(32).collect::<String>()),
                    )
                })
            }
        }

        impl $crate::to_json::ToJson for $name {
            fn write_json(&self, out: &mut String) {
                $crate::to_json::write_str(out, self.as_str());
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

#[cfg(test)]
mod tests {
    crate::names! {
        /// A test set.
        pub enum Colour as "Colour" { Red = "red", DarkBlue = "dark_blue" }
    }

    #[test]
    fn names_round_trip_and_type() {
        for c in Colour::ALL {
            assert_eq!(Colour::parse(c.as_str(), "c").unwrap(), *c);
        }
        assert_eq!(
            Colour::TS,
            "export type Colour = | \"red\" | \"dark_blue\";\n"
        );
        let e = Colour::parse("Red", "colour").unwrap_err();
        assert_eq!(e.field().as_deref(), Some("colour"));
        assert!(e.to_string().contains("red, dark_blue"), "{e}");
    }
}
