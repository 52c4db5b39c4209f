//! The words the engine understands, grouped into closed sets. Every set is an enum whose
//! first word is its canonical name (used in scene JSON and in docs/engine.md); the other words
//! are synonyms. Matching is on lowercased tokens; phrases are matched as space-joined tokens.

use serde::{Deserialize, Serialize};

macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => [$($word:literal),+ $(,)?]),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The canonical name first, then the synonyms.
            pub fn words(self) -> &'static [&'static str] {
                match self { $($name::$variant => &[$($word),+]),+ }
            }

            pub fn name(self) -> &'static str {
                self.words()[0]
            }

            pub fn from_phrase(phrase: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.words().contains(&phrase))
            }
        }
    };
}

vocabulary! {
    /// Where the scene takes place; picks the backdrop and the ambience.
    Setting {
        Beach => ["beach", "shore", "seaside", "coast", "sand", "sandy"],
        Forest => ["forest", "woods", "woodland", "jungle", "trees"],
        City => ["city", "street", "downtown", "town", "urban", "skyline", "road"],
        Desert => ["desert", "dunes", "dune", "sahara", "canyon"],
        Mountains => ["mountains", "mountain", "peaks", "alps", "cliff"],
        Ocean => ["ocean", "sea", "waves", "harbor", "harbour", "bay"],
        Space => ["space", "galaxy", "planet", "orbit", "cosmos", "outer space"],
        Snowfield => ["snowfield", "arctic", "tundra", "glacier", "polar", "winter"],
        Meadow => ["meadow", "field", "grassland", "prairie", "hills", "countryside", "garden", "park"],
        Kitchen => ["kitchen", "cafe", "restaurant", "diner", "counter", "countertop", "stove", "table", "kitchen table", "dining table"],
        Office => ["office", "desk", "workplace", "classroom"],
        Underwater => ["underwater", "reef", "seabed", "coral", "aquarium"],
        Farm => ["farm", "barn", "ranch", "village"],
        Lake => ["lake", "pond", "river", "lakeside", "riverbank"],
        Lunar => ["lunar", "lunar surface", "on the moon", "moon surface", "moonscape", "crater", "craters", "moonwalk"],
        Room => ["room", "windowsill", "window sill", "sill", "window", "bedroom", "living room", "indoors", "inside", "sofa", "couch", "bed", "lounge", "apartment"],
        Stage => ["stage", "studio", "theater", "theatre", "backdrop", "plain background"],
    }
}

vocabulary! {
    /// Furniture a resting subject can be on. Each word is also a word of the setting whose
    /// backdrop draws that piece (a sill and a sofa in a room, a counter in a kitchen, a desk in
    /// an office), so naming one also sets the scene.
    Support {
        Sill => ["sill", "windowsill", "window sill"],
        Sofa => ["sofa", "couch", "bed"],
        Table => ["table", "kitchen table", "dining table", "counter", "countertop", "desk"],
    }
}

vocabulary! {
    /// Sets the sky gradient and the light every colour is multiplied by.
    TimeOfDay {
        Dawn => ["dawn", "sunrise", "morning", "daybreak", "early morning", "morning sun", "morning light"],
        Day => ["day", "daytime", "noon", "midday", "afternoon", "daylight", "afternoon sun", "sunlight", "sunshine"],
        Dusk => ["dusk", "sunset", "evening", "twilight", "golden hour", "evening sun", "setting sun"],
        Night => ["night", "midnight", "nighttime", "moonlit", "moonlight", "dark"],
    }
}

vocabulary! {
    /// Sky cover plus the particles drawn over the frame.
    Weather {
        Clear => ["clear", "sunny", "cloudless", "bright"],
        Cloudy => ["cloudy", "overcast", "clouds", "grey sky", "gray sky"],
        Rain => ["rain", "rainy", "raining", "drizzle", "rainfall", "showers", "wet"],
        Snow => ["snow", "snowy", "snowing", "snowfall", "blizzard", "snowflakes"],
        Fog => ["fog", "foggy", "mist", "misty", "haze", "hazy"],
        Storm => ["storm", "stormy", "thunder", "lightning", "thunderstorm", "tempest"],
        Wind => ["wind", "windy", "breeze", "breezy", "gusty", "gale"],
    }
}

vocabulary! {
    /// Colours a subject can be given; RGB values are in [`NamedColour::rgb`].
    NamedColour {
        Red => ["red", "crimson", "scarlet"],
        Orange => ["orange", "amber"],
        Yellow => ["yellow", "lemon"],
        Green => ["green", "emerald", "lime"],
        Blue => ["blue", "azure", "cobalt"],
        Purple => ["purple", "violet", "lilac", "magenta"],
        Pink => ["pink", "rose"],
        Brown => ["brown", "chocolate", "tan"],
        Black => ["black", "ebony"],
        White => ["white", "ivory"],
        Grey => ["grey", "gray"],
        Gold => ["gold", "golden"],
        Silver => ["silver", "metallic", "chrome"],
        Teal => ["teal", "turquoise", "cyan"],
        Navy => ["navy", "indigo"],
        Beige => ["beige", "cream", "sandy-coloured"],
    }
}

impl NamedColour {
    pub fn rgb(self) -> [u8; 3] {
        match self {
            Self::Red => [214, 38, 38],
            Self::Orange => [240, 135, 30],
            Self::Yellow => [245, 208, 45],
            Self::Green => [56, 165, 66],
            Self::Blue => [38, 88, 214],
            Self::Purple => [128, 58, 178],
            Self::Pink => [240, 128, 178],
            Self::Brown => [128, 82, 48],
            Self::Black => [32, 32, 38],
            Self::White => [238, 238, 238],
            Self::Grey => [128, 128, 134],
            Self::Gold => [212, 172, 52],
            Self::Silver => [190, 194, 200],
            Self::Teal => [28, 150, 150],
            Self::Navy => [26, 36, 100],
            Self::Beige => [218, 198, 158],
        }
    }
}

vocabulary! {
    /// What a subject does; drives its position over time, its pose and its sound cues.
    Motion {
        Idle => ["idle", "stands", "standing", "stand", "waits", "waiting", "rests", "resting", "still", "stop", "stops", "stopping", "pauses", "poses", "posing", "cook", "cooks", "cooking", "works", "working", "reads", "reading"],
        Walk => ["walk", "walks", "walking", "strolls", "strolling", "wanders", "wandering", "stroll", "crosses", "crossing", "march", "hike", "stride", "roam"],
        Run => ["run", "runs", "running", "races", "racing", "sprints", "sprinting", "chase", "chases", "chasing", "gallop", "gallops", "galloping", "trot", "canter", "flee", "jog"],
        Jump => ["jump", "jumps", "jumping", "leaps", "leaping", "hops", "hopping"],
        Fly => ["fly", "flies", "flying", "soars", "soaring", "glides", "gliding", "flutters", "launch", "launches", "launching", "takes off", "lifts off"],
        Swim => ["swim", "swims", "swimming", "dives", "diving"],
        Drive => ["drive", "drives", "driving", "rolls", "rolling", "rides", "riding", "sails", "sailing", "moves", "moving", "passes", "passing"],
        Dance => ["dance", "dances", "dancing", "twirls", "twirling"],
        Spin => ["spin", "spins", "spinning", "rotates", "rotating", "turns", "turning"],
        Wave => ["wave", "waves hello", "waving", "greets", "greeting"],
        Bounce => ["bounce", "bounces", "bouncing", "bobs", "bobbing"],
        Float => ["float", "floats", "floating", "drifts", "drifting", "hovers", "hovering", "swirl", "swirls", "swirling"],
        Sleep => ["sleep", "sleeps", "sleeping", "asleep", "nap", "naps", "napping", "dozes", "dozing", "lies", "lying"],
        Sit => ["sit", "sits", "sitting", "seated", "perched", "squats"],
        Laugh => ["laugh", "laughs", "laughing", "giggles", "giggling", "chuckles", "smiles", "smiling", "cheers"],
    }
}

vocabulary! {
    /// The camera's movement over the segment.
    CameraMove {
        Static => ["static", "locked off", "still camera", "fixed camera", "tripod"],
        PanLeft => ["pan left", "pans left", "panning left"],
        PanRight => ["pan right", "pan", "pans", "panning", "pans right", "panning right", "sweeping"],
        TiltUp => ["tilt up", "tilts up", "tilt", "tilting up", "rises", "rising", "crane up"],
        TiltDown => ["tilt down", "tilts down", "tilting down", "crane down"],
        ZoomIn => ["zoom in", "zooms in", "zoom", "zooming in", "zooming"],
        ZoomOut => ["zoom out", "zooms out", "zooming out"],
        DollyIn => ["dolly in", "dolly", "push in", "pushes in", "pushing in", "moves closer"],
        DollyOut => ["dolly out", "pull back", "pulls back", "pull out", "pulls out", "pulling back"],
        Tracking => ["tracking", "tracking shot", "follows", "following", "tracks", "follow"],
        Handheld => ["handheld", "shaky", "documentary"],
    }
}

vocabulary! {
    /// How much of the world the camera sees.
    Framing {
        Medium => ["medium", "medium shot", "mid shot"],
        Wide => ["wide", "wide shot", "establishing", "long shot", "panoramic", "landscape"],
        CloseUp => ["close up", "closeup", "close", "macro", "portrait", "detail", "face", "headshot", "head shot", "head and shoulders", "extreme close up"],
        Aerial => ["aerial", "drone", "overhead", "bird's eye", "birds eye", "top down", "from above"],
    }
}

vocabulary! {
    /// Colour treatment and the ambience's musical pad.
    Mood {
        Calm => ["calm", "peaceful", "serene", "quiet", "relaxing", "tranquil", "gentle"],
        Cheerful => ["cheerful", "happy", "joyful", "playful", "fun", "whimsical", "cute"],
        Tense => ["tense", "scary", "ominous", "dramatic", "suspenseful", "creepy"],
        Mysterious => ["mysterious", "eerie", "dreamy", "magical", "surreal", "mystical"],
        Romantic => ["romantic", "tender", "warm", "cozy", "cosy"],
        Epic => ["epic", "cinematic", "majestic", "grand", "heroic"],
        Cold => ["cold", "cool", "chilly", "icy", "frosty", "frigid", "freezing", "bleak", "wintry"],
    }
}

vocabulary! {
    /// How fast a subject moves and animates, against its motion's own pace.
    Tempo {
        Slow => ["slow", "slowly", "slow motion", "leisurely", "unhurried", "sluggish"],
        Fast => ["fast", "quick", "quickly", "rapid", "rapidly", "swift", "swiftly", "speedy", "hurried", "fast motion", "sped up"],
    }
}

impl Tempo {
    /// The factor on speed and animation rate.
    pub fn factor(self) -> f32 {
        match self {
            Self::Slow => 0.5,
            Self::Fast => 1.8,
        }
    }
}

vocabulary! {
    /// A subject's size against its kind's usual size.
    Size {
        Big => ["big", "large", "huge", "giant", "enormous", "massive", "gigantic", "tall"],
        Small => ["small", "little", "tiny", "miniature", "mini", "petite"],
    }
}

impl Size {
    /// The factor on the subject's height.
    pub fn factor(self) -> f32 {
        match self {
            Self::Big => 1.4,
            Self::Small => 0.65,
        }
    }
}

vocabulary! {
    /// A colour style applied to every drawn colour.
    Style {
        Natural => ["natural", "realistic", "photorealistic", "normal"],
        Watercolor => ["watercolor", "watercolour", "painterly", "painted"],
        Noir => ["noir", "black and white", "monochrome", "grayscale", "greyscale"],
        Pastel => ["pastel", "soft colours", "soft colors"],
        Neon => ["neon", "cyberpunk", "synthwave", "vaporwave"],
        Sepia => ["sepia", "vintage", "old film", "retro"],
    }
}

vocabulary! {
    /// The kinds of subject the painter can draw (see the figure modules).
    SubjectKind {
        Person => ["person", "man", "woman", "people", "boy", "girl", "human", "adult", "hiker", "runner", "dancer", "skier", "surfer", "chef", "worker", "astronaut", "diver", "farmer", "traveler", "traveller"],
        Child => ["child", "kid", "children", "kids", "toddler", "baby"],
        Robot => ["robot", "android", "droid", "machine"],
        Snowman => ["snowman", "snowmen"],
        Dog => ["dog", "puppy", "pup", "hound", "doggy"],
        Cat => ["cat", "kitten", "kitty"],
        Horse => ["horse", "pony", "stallion", "mare"],
        Cow => ["cow", "cattle", "bull", "calf"],
        Rabbit => ["rabbit", "bunny", "hare"],
        Elephant => ["elephant"],
        Bird => ["bird", "seagull", "gull", "sparrow", "crow", "eagle", "pigeon", "parrot"],
        Fish => ["fish", "goldfish", "salmon", "shark", "dolphin", "whale"],
        Butterfly => ["butterfly", "moth"],
        Dragon => ["dragon", "wyvern"],
        Fox => ["fox", "wolf"],
        Car => ["car", "taxi", "cab", "sedan", "jeep", "automobile"],
        Bus => ["bus", "coach"],
        Truck => ["truck", "lorry", "van"],
        Bicycle => ["bicycle", "bike", "cyclist", "bicycles"],
        Boat => ["boat", "ship", "sailboat", "yacht", "canoe", "ferry"],
        Plane => ["plane", "airplane", "aeroplane", "jet", "aircraft"],
        Train => ["train", "locomotive", "tram"],
        Rocket => ["rocket", "spaceship", "spacecraft"],
        Balloon => ["balloon", "hot air balloon", "balloons"],
        Teapot => ["teapot", "kettle", "teapots"],
        Ball => ["ball", "football", "soccer ball", "beach ball"],
        Umbrella => ["umbrella", "parasol"],
        Kite => ["kite"],
        House => ["house", "cottage", "cabin", "home", "hut"],
        Tree => ["tree", "oak", "pine", "palm"],
        Flower => ["flower", "rose bush", "tulip", "sunflower", "daisy"],
        Cactus => ["cactus", "cacti"],
        Sun => ["sun"],
        Moon => ["moon"],
        Lighthouse => ["lighthouse", "tower"],
    }
}

/// Where a kind of subject lives in the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    Ground,
    Air,
    Sky,
}

impl SubjectKind {
    /// Height relative to an adult person.
    pub fn relative_height(self) -> f32 {
        use SubjectKind::*;
        match self {
            Person | Robot => 1.0,
            Child => 0.65,
            Snowman => 0.9,
            Dog | Fox => 0.5,
            Cat => 0.35,
            Rabbit => 0.3,
            Horse => 1.1,
            Cow => 0.95,
            Elephant => 1.7,
            Bird => 0.25,
            Fish => 0.3,
            Butterfly => 0.18,
            Dragon => 1.5,
            Car => 0.8,
            Bus => 1.5,
            Truck => 1.3,
            Bicycle => 0.75,
            Boat => 1.0,
            Plane => 0.7,
            Train => 1.3,
            Rocket => 1.4,
            Balloon => 1.3,
            Teapot => 0.35,
            Ball => 0.3,
            Umbrella => 1.1,
            Kite => 0.5,
            House => 2.1,
            Tree => 2.6,
            Flower => 0.45,
            Cactus => 1.3,
            Sun | Moon => 0.9,
            Lighthouse => 2.8,
        }
    }

    pub fn placement(self) -> Placement {
        use SubjectKind::*;
        match self {
            Bird | Fish | Butterfly | Dragon | Plane | Balloon | Kite | Rocket => Placement::Air,
            Sun | Moon => Placement::Sky,
            _ => Placement::Ground,
        }
    }

    /// The motion a subject has when the prompt names none.
    pub fn default_motion(self) -> Motion {
        use SubjectKind::*;
        match self {
            Person | Child | Robot | Dog | Cat | Horse | Cow | Elephant | Fox => Motion::Walk,
            Rabbit | Ball => Motion::Bounce,
            Bird | Butterfly | Dragon | Plane | Kite => Motion::Fly,
            Fish => Motion::Swim,
            Car | Bus | Truck | Bicycle | Boat | Train => Motion::Drive,
            Rocket | Balloon => Motion::Float,
            Snowman | Teapot | Umbrella | House | Tree | Flower | Cactus | Sun | Moon
            | Lighthouse => Motion::Idle,
        }
    }

    /// The colour a subject has when the prompt names none.
    pub fn default_colour(self) -> NamedColour {
        use SubjectKind::*;
        match self {
            Person | Child => NamedColour::Blue,
            Robot | Plane | Rocket | Bicycle => NamedColour::Silver,
            Snowman | Boat | Lighthouse => NamedColour::White,
            Dog | Horse | Rabbit => NamedColour::Brown,
            Cat | Fox | Fish => NamedColour::Orange,
            Cow | Elephant => NamedColour::Grey,
            Bird => NamedColour::Navy,
            Butterfly | Teapot => NamedColour::Teal,
            Dragon | Tree | Cactus => NamedColour::Green,
            Car | Balloon | Ball | Umbrella | Kite => NamedColour::Red,
            Bus | Sun => NamedColour::Yellow,
            Truck | Train => NamedColour::Blue,
            House => NamedColour::Beige,
            Flower => NamedColour::Pink,
            Moon => NamedColour::Silver,
        }
    }

    /// Whether the subject travels across the world when it walks, drives, flies...
    pub fn travels(self) -> bool {
        use SubjectKind::*;
        !matches!(
            self,
            House | Tree | Flower | Cactus | Lighthouse | Sun | Moon
        )
    }
}

/// Words that give a count to the noun that follows.
pub fn count_word(word: &str) -> Option<usize> {
    Some(match word {
        "a" | "an" | "one" | "single" | "lone" => 1,
        "two" | "pair" | "couple" => 2,
        "three" | "several" | "some" | "few" => 3,
        "four" | "many" | "group" | "herd" | "flock" | "pack" | "school" => 4,
        _ => return None,
    })
}

/// Singular forms for regular English plurals ("dogs", "buses", "butterflies").
pub fn singulars(word: &str) -> impl Iterator<Item = String> + '_ {
    let ies = word.strip_suffix("ies").map(|s| format!("{s}y"));
    let es = word.strip_suffix("es").map(str::to_owned);
    let s = word.strip_suffix('s').map(str::to_owned);
    ies.into_iter().chain(es).chain(s).filter(|w| w.len() > 1)
}
