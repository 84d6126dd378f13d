//! Four larger data shapes for the codec benchmark, modelled on the public
//! datasets of the Rust serialization benchmark (mesh, minecraft save
//! data, logs, mk48 game-state updates), filled with deterministic
//! pseudo-random values (a fixed-seed SplitMix64, so every run and every
//! codec sees the same bytes).
//!
//! | shape | what | built by |
//! |---|---|---|
//! | [`Mesh`] | 125,000 [`Triangle`]s of four [`Vector3`] (`f32`) | [`mesh`] |
//! | [`SaveGame`] | 500 [`Player`]s: strings, `Option`s of tuples and structs, `[u32; 4]`, `#[repr(u8)]` enums, `Vec<String>`, nested item lists | [`save_game`] |
//! | [`Logs`] | 10,000 [`Log`] records: a 4-byte address, four strings, `u16`, `u64` | [`logs`] |
//! | [`Updates`] | 1,000 game-state [`Update`]s of [`Contact`]s (`i8`/`u16`/`i16`/`f32` transforms, `Option<enum>`, `Vec<u16>`, `Vec<bool>`) and optional terrain chunks of `Vec<u8>` | [`updates`] |
//!
//! Every type derives `Packet` (packet's codec) and, with the `peers`
//! feature, the traits of bincode 2, serde (postcard), bitcode, rkyv and
//! wincode, so every codec carries identical values.

use packet_core::Packet;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// Declares wire types: `#[derive(Packet)]` plus, with the `peers`
/// feature, every peer's derives.
macro_rules! wire_types {
    ($($(#[$m:meta])* pub $kind:ident $name:ident $body:tt)*) => {$(
        #[derive(Debug, Clone, PartialEq, Packet)]
        #[cfg_attr(
            feature = "peers",
            derive(
                bincode::Encode,
                bincode::Decode,
                serde::Serialize,
                serde::Deserialize,
                bitcode::Encode,
                bitcode::Decode,
                rkyv::Archive,
                rkyv::Serialize,
                rkyv::Deserialize,
                wincode::SchemaWrite,
                wincode::SchemaRead,
            )
        )]
        $(#[$m])*
        pub $kind $name $body
    )*};
}

/// SplitMix64: a tiny deterministic generator for the fixture values.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator with a fixed seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// A float in `[-range, range)`.
    pub fn f32(&mut self, range: f32) -> f32 {
        ((self.next_u64() >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * range
    }

    /// A float in `[-range, range)`.
    pub fn f64(&mut self, range: f64) -> f64 {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) * range
    }

    /// A coin flip.
    pub fn bool(&mut self) -> bool {
        self.next_u64() & 1 == 1
    }

    /// A lowercase ASCII string of `min..=max` characters.
    pub fn string(&mut self, min: usize, max: usize) -> String {
        let len = min + self.below((max - min + 1) as u64) as usize;
        (0..len)
            .map(|_| char::from(b'a' + self.below(26) as u8))
            .collect()
    }
}

// ------------------------------------------------------------------ mesh

wire_types! {
    /// A point or direction in space. Plain little-endian data: with
    /// zerocopy's traits and `#[packet(pod)]`, runs of it are one copy.
    #[derive(Copy, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
    #[repr(C)]
    #[packet(pod)]
    pub struct Vector3 {
        /// X.
        pub x: f32,
        /// Y.
        pub y: f32,
        /// Z.
        pub z: f32,
    }

    /// A triangle: three vertices and a normal (`pod`, like [`Vector3`]).
    #[derive(Copy, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
    #[repr(C)]
    #[packet(pod)]
    pub struct Triangle {
        /// First vertex.
        pub v0: Vector3,
        /// Second vertex.
        pub v1: Vector3,
        /// Third vertex.
        pub v2: Vector3,
        /// Normal.
        pub normal: Vector3,
    }

    /// A triangle mesh (more triangles than a `u16` prefix counts).
    pub struct Mesh {
        /// The triangles.
        #[packet(len = u32)]
        pub triangles: Vec<Triangle>,
    }
}

/// The mesh without `#[packet(pod)]` (same wire bytes): what the derive
/// alone does for nested fixed-size structs, for comparison in the bench.
pub mod plain {
    use packet_core::Packet;

    /// [`super::Vector3`] without `pod`.
    #[derive(Debug, Clone, Copy, PartialEq, Default, Packet)]
    pub struct Vector3 {
        /// X.
        pub x: f32,
        /// Y.
        pub y: f32,
        /// Z.
        pub z: f32,
    }

    /// [`super::Triangle`] without `pod`.
    #[derive(Debug, Clone, Copy, PartialEq, Default, Packet)]
    pub struct Triangle {
        /// First vertex.
        pub v0: Vector3,
        /// Second vertex.
        pub v1: Vector3,
        /// Third vertex.
        pub v2: Vector3,
        /// Normal.
        pub normal: Vector3,
    }

    /// [`super::Mesh`] without `pod` elements.
    #[derive(Debug, Clone, PartialEq, Packet)]
    pub struct Mesh {
        /// The triangles.
        #[packet(len = u32)]
        pub triangles: Vec<Triangle>,
    }

    impl From<&super::Mesh> for Mesh {
        fn from(m: &super::Mesh) -> Self {
            let v = |v: super::Vector3| Vector3 {
                x: v.x,
                y: v.y,
                z: v.z,
            };
            Mesh {
                triangles: m
                    .triangles
                    .iter()
                    .map(|t| Triangle {
                        v0: v(t.v0),
                        v1: v(t.v1),
                        v2: v(t.v2),
                        normal: v(t.normal),
                    })
                    .collect(),
            }
        }
    }
}

/// A mesh of `n` triangles (the benchmark uses 125,000).
pub fn mesh(n: usize) -> Mesh {
    let mut rng = Rng::new(0x6D65_7368);
    let mut v = || Vector3 {
        x: rng.f32(100.0),
        y: rng.f32(100.0),
        z: rng.f32(100.0),
    };
    Mesh {
        triangles: (0..n)
            .map(|_| Triangle {
                v0: v(),
                v1: v(),
                v2: v(),
                normal: v(),
            })
            .collect(),
    }
}

// ------------------------------------------------------------- save game

wire_types! {
    /// A game mode.
    #[derive(Copy)]
    #[repr(u8)]
    pub enum GameType {
        /// Survival.
        Survival = 0,
        /// Creative.
        Creative = 1,
        /// Adventure.
        Adventure = 2,
        /// Spectator.
        Spectator = 3,
    }

    /// An inventory slot.
    pub struct Item {
        /// How many.
        pub count: i8,
        /// Which slot.
        pub slot: u8,
        /// Item id, e.g. `minecraft:iron_sword`.
        pub id: String,
    }

    /// What a player may do.
    #[derive(Copy)]
    pub struct Abilities {
        /// Walking speed.
        pub walk_speed: f32,
        /// Flying speed.
        pub fly_speed: f32,
        /// May fly.
        pub may_fly: bool,
        /// Is flying.
        pub flying: bool,
        /// Cannot be hurt.
        pub invulnerable: bool,
        /// May build.
        pub may_build: bool,
        /// Builds instantly.
        pub instabuild: bool,
    }

    /// A mob or vehicle.
    pub struct Entity {
        /// Entity id.
        pub id: String,
        /// Position.
        pub pos: (f64, f64, f64),
        /// Motion.
        pub motion: (f64, f64, f64),
        /// Yaw and pitch.
        pub rotation: (f32, f32),
        /// Distance fallen.
        pub fall_distance: f32,
        /// Fire ticks.
        pub fire: u16,
        /// Air ticks.
        pub air: u16,
        /// On the ground.
        pub on_ground: bool,
        /// Unaffected by gravity.
        pub no_gravity: bool,
        /// Cannot be hurt.
        pub invulnerable: bool,
        /// Portal cooldown ticks.
        pub portal_cooldown: i32,
        /// UUID.
        pub uuid: [u32; 4],
        /// Name tag.
        pub custom_name: Option<String>,
        /// Name tag shown.
        pub custom_name_visible: bool,
        /// Makes no sound.
        pub silent: bool,
        /// Glows.
        pub glowing: bool,
        /// Scoreboard tags.
        pub tags: Vec<String>,
    }

    /// Unlocked recipes.
    pub struct RecipeBook {
        /// Recipe ids.
        pub recipes: Vec<String>,
        /// Recipes still to show.
        pub to_be_displayed: Vec<String>,
        /// Filter toggle.
        pub is_filtering_craftable: bool,
        /// GUI open.
        pub is_gui_open: bool,
        /// Furnace filter toggle.
        pub is_furnace_filtering_craftable: bool,
        /// Furnace GUI open.
        pub is_furnace_gui_open: bool,
    }

    /// One player's saved state.
    pub struct Player {
        /// Game mode.
        pub game_type: GameType,
        /// Previous game mode.
        pub previous_game_type: GameType,
        /// Score.
        pub score: i64,
        /// Dimension id.
        pub dimension: String,
        /// Hot-bar slot.
        pub selected_item_slot: u32,
        /// The held item.
        pub selected_item: Item,
        /// Spawn dimension, if set.
        pub spawn_dimension: Option<String>,
        /// Spawn X.
        pub spawn_x: i64,
        /// Spawn Y.
        pub spawn_y: i64,
        /// Spawn Z.
        pub spawn_z: i64,
        /// Forced spawn.
        pub spawn_forced: Option<bool>,
        /// Sleep ticks.
        pub sleep_timer: u16,
        /// Exhaustion.
        pub food_exhaustion_level: f32,
        /// Saturation.
        pub food_saturation_level: f32,
        /// Food ticks.
        pub food_tick_timer: u32,
        /// XP level.
        pub xp_level: u32,
        /// XP progress.
        pub xp_p: f32,
        /// Total XP.
        pub xp_total: i32,
        /// XP seed.
        pub xp_seed: i32,
        /// Inventory.
        pub inventory: Vec<Item>,
        /// Ender chest.
        pub ender_items: Vec<Item>,
        /// Abilities.
        pub abilities: Abilities,
        /// Where the player entered the nether.
        pub entered_nether_position: Option<(f64, f64, f64)>,
        /// The vehicle ridden, with its UUID.
        pub root_vehicle: Option<([u32; 4], Entity)>,
        /// Parrot on the left shoulder.
        pub shoulder_entity_left: Option<Entity>,
        /// Parrot on the right shoulder.
        pub shoulder_entity_right: Option<Entity>,
        /// Saw the credits.
        pub seen_credits: bool,
        /// Recipes.
        pub recipe_book: RecipeBook,
    }

    /// A world's saved players.
    pub struct SaveGame {
        /// The players.
        pub players: Vec<Player>,
    }
}

fn game_type(rng: &mut Rng) -> GameType {
    match rng.below(4) {
        0 => GameType::Survival,
        1 => GameType::Creative,
        2 => GameType::Adventure,
        _ => GameType::Spectator,
    }
}

fn item(rng: &mut Rng) -> Item {
    Item {
        count: rng.below(64) as i8,
        slot: rng.below(36) as u8,
        id: format!("minecraft:{}", rng.string(4, 12)),
    }
}

fn entity(rng: &mut Rng) -> Entity {
    Entity {
        id: format!("minecraft:{}", rng.string(3, 10)),
        pos: (rng.f64(1e4), rng.f64(256.0), rng.f64(1e4)),
        motion: (rng.f64(1.0), rng.f64(1.0), rng.f64(1.0)),
        rotation: (rng.f32(180.0), rng.f32(90.0)),
        fall_distance: rng.f32(10.0).abs(),
        fire: rng.below(300) as u16,
        air: rng.below(300) as u16,
        on_ground: rng.bool(),
        no_gravity: rng.bool(),
        invulnerable: rng.bool(),
        portal_cooldown: rng.below(1000) as i32,
        uuid: [0; 4].map(|_: u32| rng.next_u64() as u32),
        custom_name: rng.bool().then(|| rng.string(3, 16)),
        custom_name_visible: rng.bool(),
        silent: rng.bool(),
        glowing: rng.bool(),
        tags: (0..rng.below(3)).map(|_| rng.string(3, 10)).collect(),
    }
}

fn player(rng: &mut Rng) -> Player {
    Player {
        game_type: game_type(rng),
        previous_game_type: game_type(rng),
        score: rng.next_u64() as i64 >> 40,
        dimension: format!("minecraft:{}", rng.string(5, 10)),
        selected_item_slot: rng.below(9) as u32,
        selected_item: item(rng),
        spawn_dimension: rng.bool().then(|| rng.string(5, 12)),
        spawn_x: rng.next_u64() as i64 >> 44,
        spawn_y: rng.below(256) as i64,
        spawn_z: rng.next_u64() as i64 >> 44,
        spawn_forced: rng.bool().then(|| rng.bool()),
        sleep_timer: rng.below(100) as u16,
        food_exhaustion_level: rng.f32(4.0).abs(),
        food_saturation_level: rng.f32(20.0).abs(),
        food_tick_timer: rng.below(80) as u32,
        xp_level: rng.below(100) as u32,
        xp_p: rng.f32(1.0).abs(),
        xp_total: rng.below(10_000) as i32,
        xp_seed: rng.next_u64() as i32,
        inventory: (0..rng.below(36)).map(|_| item(rng)).collect(),
        ender_items: (0..rng.below(27)).map(|_| item(rng)).collect(),
        abilities: Abilities {
            walk_speed: 0.1,
            fly_speed: 0.05,
            may_fly: rng.bool(),
            flying: rng.bool(),
            invulnerable: rng.bool(),
            may_build: rng.bool(),
            instabuild: rng.bool(),
        },
        entered_nether_position: rng
            .bool()
            .then(|| (rng.f64(1e4), rng.f64(256.0), rng.f64(1e4))),
        root_vehicle: rng
            .bool()
            .then(|| ([0; 4].map(|_: u32| rng.next_u64() as u32), entity(rng))),
        shoulder_entity_left: rng.bool().then(|| entity(rng)),
        shoulder_entity_right: rng.bool().then(|| entity(rng)),
        seen_credits: rng.bool(),
        recipe_book: RecipeBook {
            recipes: (0..rng.below(30)).map(|_| rng.string(6, 20)).collect(),
            to_be_displayed: (0..rng.below(10)).map(|_| rng.string(6, 20)).collect(),
            is_filtering_craftable: rng.bool(),
            is_gui_open: rng.bool(),
            is_furnace_filtering_craftable: rng.bool(),
            is_furnace_gui_open: rng.bool(),
        },
    }
}

/// A save game of `n` players (the benchmark uses 500).
pub fn save_game(n: usize) -> SaveGame {
    let mut rng = Rng::new(0x7361_7665);
    SaveGame {
        players: (0..n).map(|_| player(&mut rng)).collect(),
    }
}

// ------------------------------------------------------------------- log

wire_types! {
    /// An IPv4 address.
    #[derive(Copy)]
    pub struct Address {
        /// First octet.
        pub x0: u8,
        /// Second octet.
        pub x1: u8,
        /// Third octet.
        pub x2: u8,
        /// Fourth octet.
        pub x3: u8,
    }

    /// One access-log line.
    pub struct Log {
        /// Client address.
        pub address: Address,
        /// RFC 1413 identity.
        pub identity: String,
        /// User id.
        pub userid: String,
        /// Date.
        pub date: String,
        /// Request line.
        pub request: String,
        /// Status code.
        pub code: u16,
        /// Response size.
        pub size: u64,
    }

    /// An access log.
    pub struct Logs {
        /// The records.
        pub logs: Vec<Log>,
    }
}

/// A log of `n` records (the benchmark uses 10,000).
pub fn logs(n: usize) -> Logs {
    let mut rng = Rng::new(0x006C_6F67);
    const CODES: [u16; 6] = [200, 200, 200, 304, 404, 500];
    Logs {
        logs: (0..n)
            .map(|_| Log {
                address: Address {
                    x0: rng.below(256) as u8,
                    x1: rng.below(256) as u8,
                    x2: rng.below(256) as u8,
                    x3: rng.below(256) as u8,
                },
                identity: "-".into(),
                userid: rng.string(3, 10),
                date: format!(
                    "{:02}/Oct/2000:{:02}:{:02}:{:02} -0700",
                    1 + rng.below(28),
                    rng.below(24),
                    rng.below(60),
                    rng.below(60)
                ),
                request: format!(
                    "GET /{}/{}.html HTTP/1.0",
                    rng.string(3, 8),
                    rng.string(3, 12)
                ),
                code: CODES[rng.below(6) as usize],
                size: rng.below(100_000),
            })
            .collect(),
    }
}

// --------------------------------------------------- game-state updates

wire_types! {
    /// What a contact is.
    #[derive(Copy)]
    #[repr(u8)]
    pub enum EntityKind {
        /// A boat.
        Boat = 0,
        /// A submarine.
        Submarine = 1,
        /// A torpedo.
        Torpedo = 2,
        /// A missile.
        Missile = 3,
        /// A shell.
        Shell = 4,
        /// A crate.
        Crate = 5,
        /// An obstacle.
        Obstacle = 6,
        /// A decoy.
        Decoy = 7,
    }

    /// Position and motion.
    #[derive(Copy)]
    pub struct Transform {
        /// Altitude.
        pub altitude: i8,
        /// Heading.
        pub angle: u16,
        /// X.
        pub x: f32,
        /// Y.
        pub y: f32,
        /// Speed.
        pub velocity: i16,
    }

    /// Where a contact is steering.
    #[derive(Copy)]
    pub struct Guidance {
        /// Target heading.
        pub angle: u16,
        /// Diving.
        pub submerge: bool,
        /// Target speed.
        pub velocity: i16,
    }

    /// One visible entity.
    pub struct Contact {
        /// Damage taken.
        pub damage: u8,
        /// Entity id.
        pub entity_id: u32,
        /// Kind, if known.
        pub entity_kind: Option<EntityKind>,
        /// Steering.
        pub guidance: Guidance,
        /// Owner, if a player.
        pub player_id: Option<u16>,
        /// Which weapons are reloaded.
        pub reloads: Vec<bool>,
        /// Position and motion.
        pub transform: Transform,
        /// Turret headings.
        pub turret_angles: Vec<u16>,
    }

    /// A changed terrain chunk.
    pub struct TerrainUpdate {
        /// Chunk coordinates.
        pub chunk_id: (i8, i8),
        /// Compressed chunk data.
        pub data: Vec<u8>,
    }

    /// One tick's update to one client.
    pub struct Update {
        /// Visible contacts.
        pub contacts: Vec<Contact>,
        /// The player's score.
        pub score: u32,
        /// World radius.
        pub world_radius: f32,
        /// Terrain changes, if any.
        pub terrain_updates: Option<Vec<TerrainUpdate>>,
    }

    /// A stream of updates.
    pub struct Updates {
        /// The updates.
        pub updates: Vec<Update>,
    }
}

fn contact(rng: &mut Rng) -> Contact {
    const KINDS: [EntityKind; 8] = [
        EntityKind::Boat,
        EntityKind::Submarine,
        EntityKind::Torpedo,
        EntityKind::Missile,
        EntityKind::Shell,
        EntityKind::Crate,
        EntityKind::Obstacle,
        EntityKind::Decoy,
    ];
    Contact {
        damage: rng.below(256) as u8,
        entity_id: rng.next_u64() as u32,
        entity_kind: rng.bool().then(|| KINDS[rng.below(8) as usize]),
        guidance: Guidance {
            angle: rng.next_u64() as u16,
            submerge: rng.bool(),
            velocity: rng.next_u64() as i16,
        },
        player_id: rng.bool().then(|| rng.next_u64() as u16),
        reloads: (0..rng.below(8)).map(|_| rng.bool()).collect(),
        transform: Transform {
            altitude: rng.next_u64() as i8,
            angle: rng.next_u64() as u16,
            x: rng.f32(1000.0),
            y: rng.f32(1000.0),
            velocity: rng.next_u64() as i16,
        },
        turret_angles: (0..rng.below(6)).map(|_| rng.next_u64() as u16).collect(),
    }
}

/// `n` game-state updates (the benchmark uses 1,000).
pub fn updates(n: usize) -> Updates {
    let mut rng = Rng::new(0x6D6B_3438);
    Updates {
        updates: (0..n)
            .map(|_| Update {
                contacts: (0..rng.below(24)).map(|_| contact(&mut rng)).collect(),
                score: rng.below(100_000) as u32,
                world_radius: rng.f32(5000.0).abs(),
                terrain_updates: (rng.below(4) == 0).then(|| {
                    (0..1 + rng.below(2))
                        .map(|_| TerrainUpdate {
                            chunk_id: (rng.next_u64() as i8, rng.next_u64() as i8),
                            data: (0..rng.below(128)).map(|_| rng.next_u64() as u8).collect(),
                        })
                        .collect()
                }),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use packet_core::{Decode, Encode, Reader, Writer};

    fn round_trip<T: Encode + for<'de> Decode<'de> + PartialEq + core::fmt::Debug>(v: &T) {
        let mut buf = vec![0u8; v.encoded_len()];
        let mut w = Writer::new(&mut buf);
        v.encode(&mut w).expect("encodes");
        assert_eq!(w.position(), buf.len());
        let mut r = Reader::new(&buf);
        assert_eq!(&T::decode(&mut r).expect("decodes"), v);
        r.finish().expect("whole body");
    }

    /// Mutated encodings never panic the decoder, and whatever decodes
    /// re-encodes to exactly the bytes it consumed (the fuzz property of
    /// `fuzz/fuzz_targets/body_decode.rs`, on a fixed sample).
    fn mutations<T: Encode + for<'de> Decode<'de> + core::fmt::Debug>(v: &T, seed: u64) {
        let mut clean = vec![0u8; v.encoded_len()];
        v.encode(&mut Writer::new(&mut clean)).expect("encodes");
        let mut rng = Rng::new(seed);
        for round in 0..300 {
            let mut bytes = clean.clone();
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(bytes.len() as u64) as usize;
                bytes[at] = rng.next_u64() as u8;
            }
            if round % 3 == 0 {
                bytes.truncate(rng.below(bytes.len() as u64) as usize);
            }
            let mut r = Reader::new(&bytes);
            if let Ok(value) = T::decode(&mut r) {
                let n = r.position();
                assert_eq!(value.encoded_len(), n);
                let mut out = vec![0u8; n];
                value
                    .encode(&mut Writer::new(&mut out))
                    .expect("re-encodes");
                assert_eq!(out, bytes[..n]);
            }
        }
    }

    /// A decode loop for profilers, without criterion's harness around it:
    /// `PROBE=savegame cargo test --release -p packet-benches --lib --
    /// --ignored decode_probe` (`mesh`, `savegame`, `log`, `updates`;
    /// `PROBE_ITERS` decodes, default 20), e.g. under
    /// `valgrind --tool=callgrind`; the small packets too (`move`, `chat`,
    /// `snapshot100`).
    #[test]
    #[ignore = "a profiling loop, run by hand"]
    fn decode_probe() {
        fn probe<T: Encode + for<'de> Decode<'de>>(v: &T, iters: usize) {
            let mut buf = vec![0u8; v.encoded_len()];
            v.encode(&mut Writer::new(&mut buf)).expect("encodes");
            for _ in 0..iters {
                let mut r = Reader::new(core::hint::black_box(&buf));
                core::hint::black_box(T::decode(&mut r).expect("decodes"));
            }
        }
        let iters = std::env::var("PROBE_ITERS")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(20);
        match std::env::var("PROBE").as_deref() {
            Ok("mesh") => probe(&mesh(125_000), iters),
            Ok("savegame") => probe(&save_game(500), iters),
            Ok("log") => probe(&logs(10_000), iters),
            Ok("updates") => probe(&updates(1_000), iters),
            Ok("move") => probe(&crate::sample_move(), iters),
            Ok("snapshot100") => probe(&crate::sample_snapshot(100), iters),
            Ok("chat") => {
                let v = crate::sample_chat();
                let mut buf = vec![0u8; v.encoded_len()];
                v.encode(&mut Writer::new(&mut buf)).expect("encodes");
                for _ in 0..iters {
                    let mut r = Reader::new(core::hint::black_box(&buf));
                    core::hint::black_box(crate::Chat::decode(&mut r).expect("decodes"));
                }
            }
            other => panic!("PROBE=mesh|savegame|log|updates|move|chat|snapshot100, not {other:?}"),
        }
    }

    #[test]
    fn mutated_shapes_never_panic_and_round_trip() {
        mutations(&mesh(50), 1);
        mutations(&plain::Mesh::from(&mesh(50)), 2);
        mutations(&save_game(3), 3);
        mutations(&logs(20), 4);
        mutations(&updates(10), 5);
    }

    #[test]
    fn shapes_round_trip() {
        round_trip(&mesh(1000));
        round_trip(&save_game(20));
        round_trip(&logs(100));
        round_trip(&updates(50));
        assert_eq!(mesh(3), mesh(3), "deterministic");
        assert_eq!(<Triangle as Encode>::FIXED_SIZE, Some(48));
        assert_eq!(
            <Triangle as Encode>::MEMORY_IS_WIRE,
            cfg!(target_endian = "little")
        );
        // The pod mesh and the derive-only mesh write the same bytes.
        let m = mesh(100);
        let (mut a, mut b) = (vec![0u8; m.encoded_len()], vec![0u8; m.encoded_len()]);
        m.encode(&mut Writer::new(&mut a)).expect("encodes");
        plain::Mesh::from(&m)
            .encode(&mut Writer::new(&mut b))
            .expect("encodes");
        assert_eq!(a, b);
        let back = plain::Mesh::decode(&mut Reader::new(&a)).expect("decodes");
        assert_eq!(back, plain::Mesh::from(&m));
    }
}
