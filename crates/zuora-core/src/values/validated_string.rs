//! One definition of the conversions every validated string type offers.

/// Implements `FromStr`, `TryFrom<&str>`, `TryFrom<String>`, `as_str`, `Display`,
/// `AsRef<str>` and validating serde for a `struct Name(String)` whose rules live in
/// `Name::validate(&str) -> Result<(), InvalidInput>`.
macro_rules! validated_string {
    ($name:ident) => {
        impl $name {
            /// The value as given, once validated.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl ::core::str::FromStr for $name {
            type Err = $crate::values::invalid_input::InvalidInput;
            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Self::validate(value)?;
                Ok(Self(value.to_owned()))
            }
        }

        impl TryFrom<&str> for $name {
            type Error = $crate::values::invalid_input::InvalidInput;
            fn try_from(value: &str) -> Result<Self, Self::Error> {
                value.parse()
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::values::invalid_input::InvalidInput;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::validate(&value)?;
                Ok(Self(value))
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> Result<Self, D::Error> {
                let value = String::deserialize(deserializer)?;
                Self::try_from(value).map_err(::serde::de::Error::custom)
            }
        }
    };
}

pub(crate) use validated_string;
