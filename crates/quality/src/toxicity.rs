//! Toxicity: abuse, threats, slurs and hate, with or without profanity.
//!
//! Word lists alone flag every "damn" and miss "you are worthless"; this
//! scorer weighs who a word is aimed at. Profanity on its own is weak
//! evidence, an insult aimed at the reader or a group is strong, threats
//! and slurs are strongest. Matching is on words (so "Scunthorpe" is not a
//! match) after undoing common obfuscation (`f*ck`, `1d10t`).

use regex::Regex;

use crate::features::{Features, Side};
use crate::learned::{Learned, cues_of};
use crate::words::normalize_obfuscation;
use crate::{Error, Input, Result, Score, Scorer};

/// Evidence found in one text, as weights in `[0, 1]`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Evidence {
    /// A threat of violence against a person.
    pub threat: f64,
    /// A slur.
    pub slur: f64,
    /// Dehumanising or exclusionary statements about a group.
    pub hate: f64,
    /// An insult aimed at someone.
    pub insult: f64,
    /// Profanity or an untargeted insult word.
    pub profanity: f64,
}

/// The toxicity scorer.
#[derive(Debug)]
pub struct Toxicity {
    threat: Regex,
    slur: Regex,
    hate: Regex,
    targeted: Regex,
    insult_word: Regex,
    profanity: Regex,
    benign: Regex,
}

const INSULTS: &str = r"idiots?|stupid|morons?|moronic|dumb|dumbass|loser|losers|pathetic|worthless|useless|ugly|retards?|retarded|imbeciles?|trash|garbage|scum|scumbag|pigs?|disgusting|clowns?|cretins?|jackass|fools?|foolish|ignorant|incompetent|freaks?|creeps?|whores?|sluts?|skanks?|hoes?|bitch(?:es)?|bastards?|assholes?|dickheads?|dicks?|cunts?|twats?|pricks?|wankers?|douche(?:bag)?s?|piece of (?:shit|crap|garbage|trash)|waste of (?:space|oxygen|air|skin)|subhuman|vermin|parasites?|cockroach(?:es)?|animals?|savages?|degenerates?|halfwits?|nitwits?|dimwits?|numbskulls?|airheads?|brainless|spineless|lowlife|low-life|failure|joke|coward|nobody|fat|obese|hideous|repulsive|gross|filthy|nasty|evil|sick|twisted|psycho|psychopath|lunatic|maniac|weirdo|nerd|virgin|simp|cuck|snowflake|libtard|trumptard|sheep|sheeple|bozo|buffoon|dork|doofus|dunce|ignoramus|neanderthal|troglodyte|incel|pervert|perv|pedo|pedophile|rat|snake|weasel|leech|cancer|disease|plague|shit|crap";

/// Insults that only ever name a person.
const PERSON_INSULTS: &str = r"idiots?|morons?|imbeciles?|losers?|bitch(?:es)?|bastards?|assholes?|dickheads?|cunts?|twats?|pricks?|wankers?|douche(?:bag)?s?|whores?|sluts?|skanks?|retards?|cretins?|clowns?|frauds?|hacks?|liars?|scumbags?|pigs?|pussy|pussies|cowards?|jackass(?:es)?|dumbass(?:es)?|halfwits?|nitwits?|dimwits?|buffoons?|creeps?|perverts?|psychos?|lunatics?|freaks?|losers?|degenerates?|parasites?|snakes?|rats?";

impl Toxicity {
    /// Compiles the patterns.
    ///
    /// # Panics
    ///
    /// Never in practice: the patterns are constants covered by tests.
    pub fn new() -> Self {
        let compile = |pattern: &str| Regex::new(pattern).expect("toxicity patterns are valid constants");
        let groups = r"(?:muslims?|jews?|jewish people|blacks?|black people|whites?|white people|gays?|gay people|lesbians?|trans(?:gender)? people|trannies|immigrants?|migrants?|refugees?|mexicans?|women|woman|females?|men|christians?|asians?|chinese|arabs?|africans?|indians?|hindus?|latinos?|hispanics?|queers?|homosexuals?|disabled people|foreigners?|catholics?|atheists?|feminists?|liberals?|conservatives?|democrats?|republicans?|gypsies|roma|poles|russians?|ukrainians?|israelis?|palestinians?|germans?|irish|them|these people|those people|your kind|their kind|you people|fat people|poor people|old people|boomers|autistic people|mentally ill people|homeless people)";
        Toxicity {
            threat: compile(concat!(
                r"\b(?:i(?:'ll| will| am going to|'m going to|'m gonna| am gonna| gonna| want to| wanna| should| would| shall)|we(?:'ll| will| are going to|'re gonna| gonna)|someone should|somebody should|i hope someone|i'd love to|i would love to) ",
                r"(?:\w+ ){0,2}(?:kill|murder|hurt|stab|shoot|strangle|choke|beat|punch|slap|rape|behead|hang|lynch|burn|torture|break|smash|bash|slit|cut|gut|skin|bury|end|destroy|execute|eliminate|find|hunt|track|get) (?:down |up |out )?",
                r"(?:you|u|ya|him|her|them|your|ur|his|their|every|all|each)\b",
                r"|\b(?:you(?:'re| are| r)|ur) (?:dead|going to die|gonna die|so dead|next|a dead (?:man|woman))\b",
                r"|\b(?:watch your back|i know where you live|sleep with one eye open|you(?:'ll| will) regret|count your days|your days are numbered|you won'?t see tomorrow|you(?:'ll| will) pay for (?:this|that))\b",
                r"|\b(?:kill|hang|shoot|burn|gas|exterminate|slaughter|lynch) (?:your ?self|yourselves|all (?:of )?(?:them|you|the \w+))\b",
                r"|\bi hope (?:you|u|ya|your (?:\w+ )?\w+|he|she|they|them)(?: \w+){0,2} (?:die|dies|get (?:cancer|aids|hit|raped|killed|shot|murdered)|rots?|burns?|suffers?|chokes?)\b|\bshould have (?:aborted|drowned|strangled|killed) (?:you|u|him|her)\b",
                r"|\b(?:kys|go die|go kill yourself|drink bleach|hope you die|hope u die|hope you get (?:cancer|raped|hit|killed|shot)|die in a fire|rot in hell|should be (?:shot|killed|hanged|hung|gassed|burned|exterminated|lynched|raped|executed)|deserve(?:s)? to (?:die|be (?:shot|killed|raped|hanged|hung|beaten|tortured)))\b",
                r"|\b(?:bomb|shoot up|burn down|blow up) (?:your|the|their|his|her) (?:house|school|office|church|mosque|synagogue|home|family|workplace|car)\b",
            )),
            slur: compile(
                r"\b(?:n[i1]gg(?:er|a|ah|uh|az|ers|as)|f[a@]gg?(?:ot|ots|y|s)?|f[a@]g|k[i1]ke|sp[i1]c|sp[i1]ck|ch[i1]nk|g[o0][o0]k|wetback|beaner|towelhead|raghead|sand ?n[i1]gg\w*|tr[a@]nn(?:y|ie|ies)|dyke|coon|jigaboo|porch ?monkey|gypo|paki|wop|dago|kraut|zipperhead|camel ?jockey|shemale|retard|retards|retarded|mongoloid|spaz|tard)\b",
            ),
            hate: compile(&format!(
                concat!(
                    r"\b(?:all|most|every|those|these|the|typical|fucking|filthy|damn|bloody)? ?{groups} (?:are|is|r|should|must|need to|deserve to|belong|breed|spread|ruin|ruined|destroy|don'?t deserve|aren'?t|have no) ",
                    r"(?:(?:\w+ ){{0,3}})(?:animals|vermin|subhuman|sub-human|parasites|a disease|diseased|a plague|cockroaches|rats|inferior|dirty|filthy|criminals|rapists|terrorists|savages|scum|trash|garbage|evil|stupid|dumb|idiots|worthless|a cancer|cancer|not human|less than human|too emotional|lazy|violent|greedy|hysterical|incapable|unfit|not fit|thieves|liars|inbred|primitive|backwards|apes|monkeys|dogs|pigs|exterminated|eradicated|wiped out|gassed|deported|sent back|kicked out|banned|killed|shot|hanged|sterilized|in the kitchen|property|objects|beneath us|destroying|ruining|taking over|replacing|rights|to vote|to exist|to live)\b",
                    r"|\b(?:death to|get rid of (?:all )?(?:the )?|kick out (?:all )?(?:the )?|gas (?:the|all)|i hate (?:all )?(?:the )?|fuck (?:all )?(?:the )?|no more ){groups}\b",
                    r"|\b(?:nobody|no one) wants (?:you|your kind|them|you people) (?:here|around)\b|\b(?:you|they|your kind|you people) (?:don'?t|do not) belong (?:here|in this country)\b",
                    r"|\b(?:should|need to|must) be (?:locked up|put down|removed|sterili[sz]ed|wiped out|eradicated|purged|castrated)\b",
                    r"|\bgo back to (?:your|where you came from|africa|mexico|china|your country|your own country)\b",
                    r"|\b(?:women|females|girls) (?:belong|should stay) in the kitchen\b|\bmake me a sandwich\b",
                    r"|\b(?:white|aryan|master) (?:race|power|supremacy) (?:is|will|forever|rules)\b|\b(?:heil hitler|sieg heil|14 ?88|1488|gas the)\b",
                ),
                groups = groups
            )),
            targeted: compile(&format!(
                concat!(
                    r"\b(?:you(?:'re| are| r|re)?|u r|ur|your|you're such|you are such|you're a|you are a|what a|such an?|shut up|fuck you|fuck off|screw you|go to hell|stfu|gtfo|nobody (?:likes|loves|cares about) you|no one (?:likes|loves|cares about) you|kill yourself|get lost|piss off|eat shit|suck my|blow me|bite me) ",
                    r"(?:(?:\w+ ){{0,3}})(?:{insults})\b",
                    r"|\b(?:shut (?:the fuck |your (?:\w+ )?(?:mouth|face) )?up|fuck (?:you|off|u|ur|your)|screw you|go to hell|stfu|gtfo|piss off|eat shit|suck my (?:dick|cock|balls)|go fuck yourself|nobody (?:likes|loves|cares about|asked) you|no one (?:likes|loves|cares about|asked) you|get a life|you suck|u suck|you disgust me|you make me sick|kill yourself|go die|your (?:mom|mother|mama)(?:'s)? (?:is )?(?:a )?(?:whore|slut|bitch|so fat|so ugly))\b",
                    r"|\b(?:{insults}) (?:like you|such as you|like u)\b",
                    r"|\b(?:he|she|they|that (?:guy|girl|man|woman|dude|kid|person|referee|author|teacher|boss|politician|idiot|moron|clown|bitch)|this (?:guy|girl|man|woman|dude|person)|the (?:referee|author|guy|girl|man|woman|teacher|boss|president|ceo|manager|writer|driver|cashier|waiter))(?:'s| is| are|'re| was| were) (?:(?:a|an|such a|such an|the|total|complete|absolute|fucking|fuckin|blind|dumb|stupid|lazy|fat|ugly|little|old|useless) ){{0,3}}(?:{person_insults})\b",
                    r"|\b(?:stop being|don'?t be|quit being) (?:such )?(?:a |an )?(?:\w+ )?(?:{person_insults})\b",
                    r"|\b(?:idiotic|moronic|stupid|dumb|pathetic|retarded|worthless|disgusting|ugly|useless|braindead|brainless)\b[^.!?\n]{{0,30}}\bso are (?:you|u)\b",
                    r"|\b(?:you|u|ya|y'all|you guys|you people) (?:\w+ ){{0,2}}(?:{insults})\b",
                ),
                insults = INSULTS,
                person_insults = PERSON_INSULTS
            )),
            insult_word: compile(&format!(r"\b(?:{INSULTS})\b")),
            profanity: compile(
                r"\b(?:fuck\w*|f+u+c+k+|fck|fk|fuk\w*|shit\w*|sh[i1]t|bullshit|damn\w*|goddamn\w*|bitch\w*|bastard\w*|ass|asses|asshole\w*|arse\w*|dick\w*|cunt\w*|cock\w*|crap\w*|piss\w*|motherf\w*|wtf|stfu|gtfo|bloody|bollocks|twat|wank\w*|prick|slut\w*|whore\w*|hell|jerk\w*|suck\w*)\b",
            ),
            benign: compile(
                r"\b(?:kill\s+-\d+|kill\s+(?:-\w+\s+)?(?:the\s+)?(?:process|processes|pid|job|jobs|task|tasks|server|session|thread|switch|command|signal|container|pod|app|program)|pkill|killall|killed it|kill it (?:on|at) (?:stage|work)|kill(?:ing)? time|kill two birds|dressed to kill|to kill a mockingbird|overkill|painkiller|kills? (?:germs|bacteria|weeds|pests|bugs)|shoot (?:a|the) (?:photo|video|film|scene|movie|email|message)|photo ?shoot|execute (?:the|a|this)? ?(?:query|command|code|script|program|function|plan|order|trade)|hang (?:out|on|up|in there)|beat (?:the|a|my) (?:record|game|level|boss|deadline|eggs|mixture|batter|competition|odds)|dead ?line|deadlock|dead code|dead link|dead end|fire (?:the|an?) (?:event|request|query|alarm|callback)|cut (?:the|a) (?:cake|paper|string|branch|release)|bomb(?:ed)? (?:the|my|an?) (?:exam|test|interview|audition)|slay(?:ed|ing)?|killer (?:app|feature|deal|view)|dick van dyke|moby dick|scunthorpe|cockpit|cocktail|hancock|peacock|shittake|shiitake|penistone|essex|sussex|middlesex|assassin|assess\w*|assum\w*|class\w*|pass\w*|grass\w*|bass\w*|mass\w*)\b",
            ),
        }
    }

    /// The evidence of toxicity in `text`.
    pub fn evidence(&self, text: &str) -> Evidence {
        let normalized = normalize_obfuscation(text);
        let normalized = squeeze_repeats(&normalized);
        let cleaned = self.benign.replace_all(&normalized, " ");
        let cleaned = cleaned.as_ref();
        let count = |regex: &Regex| regex.find_iter(cleaned).count();
        let threat = count(&self.threat);
        let slur = count(&self.slur);
        let hate = count(&self.hate);
        let targeted = count(&self.targeted);
        let insults = count(&self.insult_word);
        let profanity = count(&self.profanity);
        Evidence {
            threat: saturate(threat, 0.85),
            slur: saturate(slur, 0.75),
            hate: saturate(hate, 0.8),
            insult: saturate(targeted, 0.65),
            profanity: saturate(insults, 0.2).max(saturate(profanity, 0.15)).max(if insults > 0 && profanity > 0 {
                0.35
            } else {
                0.0
            }),
        }
    }

    /// The toxicity score of `text`, in `[0, 1]`.
    pub fn score_text(&self, text: &str) -> f64 {
        Toxicity::score_evidence(&self.evidence(text))
    }

    /// The toxicity score of already-gathered evidence.
    pub fn score_evidence(evidence: &Evidence) -> f64 {
        combine(&[evidence.threat, evidence.slur, evidence.hate, evidence.insult, evidence.profanity])
    }
}

impl Default for Toxicity {
    fn default() -> Self {
        Toxicity::new()
    }
}

impl Scorer for Toxicity {
    fn name(&self) -> &'static str {
        "toxicity"
    }

    fn score(&self, input: &Input<'_>) -> Result<Score> {
        let text = input.response_side().ok_or(Error::MissingField { field: "text|response|prompt" })?;
        Ok(Toxicity::score_learned(&Features::of(text, Side::Response), self.score_text(text)))
    }
}

impl Toxicity {
    /// The calibrated learned score of a text's features, given its rule
    /// score ([`Toxicity::score_text`]).
    pub fn score_learned(features: &Features, rules: f64) -> Score {
        let learned = Learned::get();
        let (value, label) = learned.decide("toxicity", &learned.classifiers.toxicity_inputs(features, rules), false);
        let mut score = Score::new("toxicity", value, label);
        if label {
            score.cues = cues_of(&learned.classifiers.toxicity, features);
        }
        score
    }
}

/// `1 - (1 - weight)^n`, capped at three occurrences.
fn saturate(occurrences: usize, weight: f64) -> f64 {
    1.0 - (1.0 - weight).powi(occurrences.min(3) as i32)
}

/// Noisy-or of independent pieces of evidence.
pub(crate) fn combine(weights: &[f64]) -> f64 {
    1.0 - weights.iter().fold(1.0, |rest, weight| rest * (1.0 - weight))
}

/// Squeezes runs of three or more equal letters to one ("stuuuupid").
fn squeeze_repeats(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = None;
    let mut run = 0;
    for ch in text.chars() {
        if Some(ch) == last && ch.is_alphabetic() {
            run += 1;
            if run >= 2 {
                continue;
            }
        } else {
            run = 0;
        }
        last = Some(ch);
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, toxic: bool) {
        let value = Toxicity::new().score_text(text);
        assert_eq!(value >= 0.5, toxic, "{value} for {text:?}");
    }

    #[test]
    fn abuse_threats_and_hate_are_toxic() {
        check("You are a worthless idiot.", true);
        check("shut up, nobody asked you", true);
        check("I will find you and kill you.", true);
        check("All immigrants are vermin and should be deported.", true);
        check("you're such a f*cking l0ser", true);
        check("people like you are pathetic", true);
    }

    #[test]
    fn technical_and_innocent_uses_are_not() {
        check("Run kill -9 1234 to stop the process.", false);
        check("I grew up in Scunthorpe.", false);
        check("Damn, that was a great game!", false);
        check("The killer feature is the new cache.", false);
        check("This bug is stupid, but the fix is easy.", false);
        check("", false);
    }
}
