// The built-in demo corpus and sentiment task; see demo_data.h.
#include "distilbert/demo/demo_data.h"

#include <algorithm>
#include <map>
#include <sstream>
#include <unordered_set>

#include "distilbert/core/error.h"
#include "distilbert/core/splitmix64.h"

namespace distilbert::demo {

uint64_t DemoRng::next() { return splitmix64_next(state_); }

uint64_t DemoRng::below(uint64_t n) {
  DISTILBERT_CHECK(n > 0, "DemoRng::below: n must be > 0");
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;  // reject the biased tail
  uint64_t x = next();
  while (x >= limit) x = next();
  return x % n;
}

bool DemoRng::chance(double p) { return static_cast<double>(next() >> 11) * 0x1.0p-53 < p; }

const char* review_form_name(ReviewForm f) {
  switch (f) {
    case ReviewForm::Single: return "single";
    case ReviewForm::And: return "and";
    case ReviewForm::But: return "but";
    case ReviewForm::Although: return "although";
  }
  return "?";
}

namespace {

using Words = std::vector<std::string>;

// ---- reviews --------------------------------------------------------------------------------------------------
const Words kAspectsSingular = {"the film",      "the movie",       "this film",     "this movie",   "the story",
                                "the plot",      "the acting",      "the music",     "the ending",   "the script",
                                "the dialogue",  "the pacing",      "the direction", "the cast",     "the soundtrack",
                                "the humour",    "the first half",  "the final scene", "the lead actor",
                                "the lead actress", "the villain",  "the camera work", "the set design"};
const Words kAspectsPlural = {"the actors", "the songs",     "the jokes",       "the characters",
                              "the effects", "the costumes", "the fight scenes", "the twists"};
const Words kPositiveAdjectives = {"good",     "great",    "wonderful", "brilliant", "charming", "moving",   "funny",
                                   "clever",   "beautiful", "delightful", "superb",  "gripping", "fresh",    "touching",
                                   "stunning", "excellent", "memorable", "lovely",   "smart",    "powerful"};
const Words kNegativeAdjectives = {"bad",        "dull",    "boring",   "awful",  "terrible",    "weak",   "clumsy",
                                   "tedious",    "silly",   "bland",    "predictable", "painful", "messy", "lifeless",
                                   "forgettable", "stale",  "flat",     "annoying", "poor",      "shallow"};
const Words kIntensifiers = {"very", "really", "quite", "truly", "rather", "so", "extremely", "pretty"};
// Verbs of opinion: past form and base form (after "did not").
struct OpinionVerb {
  const char* past;
  const char* base;
  int polarity;
};
const std::vector<OpinionVerb> kOpinionVerbs = {
    {"loved", "love", 1},     {"liked", "like", 1},    {"enjoyed", "enjoy", 1},       {"admired", "admire", 1},
    {"adored", "adore", 1},   {"hated", "hate", -1},   {"disliked", "dislike", -1},   {"despised", "despise", -1},
    {"resented", "resent", -1}};
const Words kOpinionSubjects = {"i", "we", "my wife", "my friends", "everyone", "the audience", "the critics",
                                "my brother"};
const Words kReviewPrefixes = {"overall ,", "honestly ,", "to be fair ,", "in the end ,", "for me ,", "as a whole ,"};

std::string join_words(const Words& w) {
  std::string s;
  for (const auto& x : w) {
    if (x.empty()) continue;
    if (!s.empty()) s += ' ';
    s += x;
  }
  return s;
}

// One clause with overall polarity `target` (+1 / -1); counts a negation in `negations`.
std::string review_clause(DemoRng& rng, int target, int& negations) {
  const bool negate = rng.chance(0.35);
  if (negate) ++negations;
  const int word_polarity = negate ? -target : target;
  if (rng.chance(0.65)) {  // "<aspect> <copula> [not] [very] <adjective>"
    const bool plural = rng.chance(0.25);
    const std::string aspect = rng.pick(plural ? kAspectsPlural : kAspectsSingular);
    const std::string& adj = rng.pick(word_polarity > 0 ? kPositiveAdjectives : kNegativeAdjectives);
    const std::string intens = rng.chance(0.4) ? rng.pick(kIntensifiers) : "";
    std::string copula;
    switch (rng.below(4)) {
      case 0: copula = negate ? (plural ? "were not" : "was not") : (plural ? "were" : "was"); break;
      case 1: copula = negate ? (plural ? "are not" : "is not") : (plural ? "are" : "is"); break;
      case 2: copula = negate ? "did not feel" : "felt"; break;
      default: copula = negate ? (plural ? "were never" : "was never") : "seemed"; break;
    }
    return join_words({aspect, copula, intens, adj});
  }
  // "<subject> [really] <verb> <aspect>" / "<subject> did not [really] <verb> <aspect>"
  std::vector<const OpinionVerb*> verbs;
  for (const auto& v : kOpinionVerbs)
    if (v.polarity == word_polarity) verbs.push_back(&v);
  const OpinionVerb& v = *verbs[static_cast<size_t>(rng.below(verbs.size()))];
  const std::string subject = rng.pick(kOpinionSubjects);
  const std::string really = rng.chance(0.3) ? "really" : "";
  const std::string aspect = rng.pick(rng.chance(0.25) ? kAspectsPlural : kAspectsSingular);
  if (negate) return join_words({subject, "did not", really, v.base, aspect});
  return join_words({subject, really, v.past, aspect});
}

// ---- the general corpus ---------------------------------------------------------------------------------------
enum Cls { Person, Animal, Food, Drink, Text, Structure, Thing, Place };

struct Noun {
  const char* sg;
  const char* pl;  // nullptr: mass noun (no plural, no "a")
  Cls cls;
};
const std::vector<Noun> kNouns = {
    {"farmer", "farmers", Person},   {"teacher", "teachers", Person},     {"doctor", "doctors", Person},
    {"child", "children", Person},   {"woman", "women", Person},          {"man", "men", Person},
    {"king", "kings", Person},       {"queen", "queens", Person},         {"soldier", "soldiers", Person},
    {"student", "students", Person}, {"baker", "bakers", Person},         {"sailor", "sailors", Person},
    {"painter", "painters", Person}, {"girl", "girls", Person},           {"boy", "boys", Person},
    {"neighbour", "neighbours", Person}, {"merchant", "merchants", Person}, {"hunter", "hunters", Person},
    {"fisherman", "fishermen", Person},
    {"dog", "dogs", Animal},   {"cat", "cats", Animal},     {"horse", "horses", Animal}, {"bird", "birds", Animal},
    {"fox", "foxes", Animal},  {"wolf", "wolves", Animal},  {"cow", "cows", Animal},     {"goat", "goats", Animal},
    {"mouse", "mice", Animal}, {"duck", "ducks", Animal},   {"bear", "bears", Animal},   {"owl", "owls", Animal},
    {"bread", nullptr, Food},  {"apple", "apples", Food},   {"cheese", nullptr, Food},   {"soup", nullptr, Food},
    {"cake", "cakes", Food},   {"rice", nullptr, Food},     {"egg", "eggs", Food},       {"pie", "pies", Food},
    {"water", nullptr, Drink}, {"milk", nullptr, Drink},    {"wine", nullptr, Drink},    {"tea", nullptr, Drink},
    {"coffee", nullptr, Drink}, {"juice", nullptr, Drink},
    {"book", "books", Text},   {"letter", "letters", Text}, {"poem", "poems", Text},     {"newspaper", "newspapers", Text},
    {"map", "maps", Text},     {"song", "songs", Text},
    {"house", "houses", Structure}, {"wall", "walls", Structure}, {"boat", "boats", Structure},
    {"fence", "fences", Structure}, {"tower", "towers", Structure}, {"barn", "barns", Structure},
    {"door", "doors", Thing},  {"window", "windows", Thing}, {"box", "boxes", Thing},    {"gate", "gates", Thing},
    {"basket", "baskets", Thing},
    {"river", nullptr, Place}, {"forest", nullptr, Place},  {"village", nullptr, Place}, {"city", nullptr, Place},
    {"market", nullptr, Place}, {"church", nullptr, Place}, {"school", nullptr, Place},  {"garden", nullptr, Place},
    {"hill", nullptr, Place},  {"lake", nullptr, Place},    {"bridge", nullptr, Place},  {"road", nullptr, Place},
    {"castle", nullptr, Place}, {"farm", nullptr, Place},   {"station", nullptr, Place}, {"harbour", nullptr, Place},
    {"field", nullptr, Place}, {"valley", nullptr, Place},  {"kitchen", nullptr, Place}, {"library", nullptr, Place}};

// Adjectives by the class they describe.
const std::map<Cls, Words> kAdjectives = {
    {Person, {"old", "young", "tired", "happy", "angry", "kind", "hungry", "brave", "poor", "rich", "clever", "quiet"}},
    {Animal, {"old", "young", "hungry", "tired", "small", "big", "wild", "brown", "white", "black", "lazy"}},
    {Food, {"fresh", "warm", "sweet", "hot", "cold", "good"}},
    {Drink, {"cold", "hot", "fresh", "sweet", "good"}},
    {Text, {"old", "long", "short", "strange", "new"}},
    {Structure, {"old", "new", "small", "large", "white", "tall"}},
    {Thing, {"old", "heavy", "red", "green", "wooden", "open"}},
    {Place, {"quiet", "busy", "cold", "dark", "large", "small", "old", "beautiful", "empty"}}};

struct Verb {
  const char* base;
  const char* s3;
  const char* past;
  int subject;  // bit mask of (1 << Cls)
  int object;   // -1 intransitive, else bit mask of object classes
  bool motion;  // takes "to / across / along / into" places
};
constexpr int P = 1 << Person, A = 1 << Animal, PA = P | A;
const std::vector<Verb> kVerbs = {
    {"walk", "walks", "walked", PA, -1, true},      {"run", "runs", "ran", PA, -1, true},
    {"sleep", "sleeps", "slept", PA, -1, false},    {"wait", "waits", "waited", PA, -1, false},
    {"rest", "rests", "rested", PA, -1, false},     {"arrive", "arrives", "arrived", PA, -1, false},
    {"swim", "swims", "swam", PA, -1, true},        {"laugh", "laughs", "laughed", P, -1, false},
    {"work", "works", "worked", P, -1, false},      {"dance", "dances", "danced", P, -1, false},
    {"travel", "travels", "travelled", P, -1, true},
    {"eat", "eats", "ate", PA, 1 << Food, false},   {"drink", "drinks", "drank", PA, 1 << Drink, false},
    {"read", "reads", "read", P, 1 << Text, false}, {"write", "writes", "wrote", P, 1 << Text, false},
    {"build", "builds", "built", P, 1 << Structure, false}, {"paint", "paints", "painted", P, 1 << Structure, false},
    {"open", "opens", "opened", P, 1 << Thing, false},      {"close", "closes", "closed", P, 1 << Thing, false},
    {"buy", "buys", "bought", P, (1 << Food) | (1 << Drink) | (1 << Text), false},
    {"sell", "sells", "sold", P, (1 << Food) | (1 << Drink) | (1 << Thing), false},
    {"carry", "carries", "carried", P, (1 << Thing) | (1 << Food), false},
    {"feed", "feeds", "fed", P, A, false},          {"help", "helps", "helped", P, P, false},
    {"meet", "meets", "met", P, P, false},          {"watch", "watches", "watched", PA, PA, false},
    {"chase", "chases", "chased", A, A, false},     {"follow", "follows", "followed", PA, PA, false}};
// Sounds: only their animal makes them.
const std::map<std::string, std::vector<std::string>> kSounds = {
    {"dog", {"bark", "barks", "barked"}},   {"cat", {"purr", "purrs", "purred"}},
    {"horse", {"neigh", "neighs", "neighed"}}, {"bird", {"sing", "sings", "sang"}},
    {"wolf", {"howl", "howls", "howled"}},  {"duck", {"quack", "quacks", "quacked"}},
    {"owl", {"hoot", "hoots", "hooted"}},   {"cow", {"moo", "moos", "mooed"}}};
const Words kMotionPreps = {"to", "across", "along", "into", "towards"};
const Words kRestPreps = {"in", "near", "behind", "beside", "by"};
const Words kAdverbs = {"slowly", "quickly", "quietly", "happily", "early", "late", "again"};
const Words kPastTimes = {"yesterday ,", "last night ,", "last week ,", "long ago ,", "one morning ,"};
const Words kPresentTimes = {"every day ,", "every morning ,", "each week ,", "usually ,", "often ,"};
const Words kAnyTimes = {"in the morning ,", "at night ,", "after dinner ,", "on sunday ,", "in winter ,"};
const Words kNumbers = {"two", "three", "four", "five", "many", "some", "several"};

bool starts_with_vowel(const std::string& w) { return !w.empty() && std::string("aeiou").find(w[0]) != std::string::npos; }

const Noun& pick_noun(DemoRng& rng, int mask) {
  std::vector<const Noun*> c;
  for (const auto& n : kNouns)
    if (mask & (1 << n.cls)) c.push_back(&n);
  return *c[static_cast<size_t>(rng.below(c.size()))];
}

struct NP {
  std::string text;
  bool plural = false;
  const Noun* noun = nullptr;
};

// A noun phrase; `allow_plural` false forces the singular (or mass) form.
NP noun_phrase(DemoRng& rng, const Noun& n, bool allow_plural = true, bool definite_only = false) {
  NP np;
  np.noun = &n;
  const bool mass = n.pl == nullptr;
  np.plural = !mass && allow_plural && rng.chance(0.35);
  const std::string adj = rng.chance(0.35) ? rng.pick(kAdjectives.at(n.cls)) : "";
  std::string det;
  if (n.cls == Place || definite_only) {
    det = "the";
  } else if (mass) {
    det = rng.pick(Words{"the", "some", "the", "their", "fresh"});
    if (det == "fresh" && !adj.empty()) det = "some";
  } else if (np.plural) {
    det = rng.pick(Words{"the", "the", "some", "these", "those", "my", "our", "their", "two", "three", "many"});
  } else {
    det = rng.pick(Words{"the", "the", "a", "a", "this", "that", "my", "his", "her", "our", "every"});
    if (det == "a" && starts_with_vowel(adj.empty() ? n.sg : adj)) det = "an";
  }
  np.text = join_words({det, adj, np.plural ? n.pl : n.sg});
  return np;
}

std::string verb_form(const std::string& base, const std::string& s3, const std::string& past, bool past_tense,
                      bool plural) {
  return past_tense ? past : plural ? base : s3;
}

// One predicate for `subject`; tense fixed per paragraph.
std::string predicate(DemoRng& rng, const NP& subject, bool past) {
  const auto sound = kSounds.find(subject.noun->sg);
  if (sound != kSounds.end() && rng.chance(0.35)) {
    const auto& f = sound->second;
    return join_words({verb_form(f[0], f[1], f[2], past, subject.plural), rng.chance(0.3) ? rng.pick(kAdverbs) : ""});
  }
  std::vector<const Verb*> c;
  for (const auto& v : kVerbs)
    if (v.subject & (1 << subject.noun->cls)) c.push_back(&v);
  const Verb& v = *c[static_cast<size_t>(rng.below(c.size()))];
  Words w = {verb_form(v.base, v.s3, v.past, past, subject.plural)};
  if (v.object >= 0) {
    const Noun* o = &pick_noun(rng, v.object);
    while (o == subject.noun) o = &pick_noun(rng, v.object);
    w.push_back(noun_phrase(rng, *o).text);
  }
  if (rng.chance(v.motion ? 0.8 : 0.3))
    w.push_back(join_words({rng.pick(v.motion ? kMotionPreps : kRestPreps), noun_phrase(rng, pick_noun(rng, 1 << Place)).text}));
  if (rng.chance(0.25)) {
    std::string adv = rng.pick(kAdverbs);
    if (subject.plural && rng.chance(0.3)) adv = "together";  // only a group does things together
    w.push_back(adv);
  }
  return join_words(w);
}

std::string general_sentence(DemoRng& rng, const Noun& topic, bool past) {
  auto subject_np = [&] {
    if (rng.chance(0.45)) return noun_phrase(rng, topic, false, true);  // the paragraph's topic again
    return noun_phrase(rng, pick_noun(rng, P | A));
  };
  const std::string time = rng.chance(0.2) ? rng.pick(rng.chance(0.5) ? kAnyTimes : past ? kPastTimes : kPresentTimes)
                                           : "";
  switch (rng.below(6)) {
    case 0: {  // "when S , S"
      const NP a = subject_np(), b = subject_np();
      return join_words({"when", a.text, predicate(rng, a, past), ",", b.text, predicate(rng, b, past), "."});
    }
    case 1: {  // "S and VP"
      const NP a = subject_np();
      return join_words({time, a.text, predicate(rng, a, past), "and", predicate(rng, a, past), "."});
    }
    case 2: {  // "<NP> was / were <adjective>"
      const NP a = rng.chance(0.3) ? noun_phrase(rng, pick_noun(rng, ~0)) : subject_np();
      const std::string be = past ? (a.plural ? "were" : "was") : (a.plural ? "are" : "is");
      const std::string deg = rng.chance(0.3) ? rng.pick(Words{"very", "quite", "so", "rather"}) : "";
      return join_words({time, a.text, be, deg, rng.pick(kAdjectives.at(a.noun->cls)), "."});
    }
    case 3: {  // "there was / were <NP> in the <place>"
      const Noun& n = pick_noun(rng, ~(1 << Place));
      const bool plural = n.pl != nullptr && rng.chance(0.5);
      std::string det;
      if (plural) det = rng.pick(kNumbers);
      else if (n.pl == nullptr) det = "some";
      else det = starts_with_vowel(n.sg) ? "an" : "a";
      const std::string be = past ? (plural ? "were" : "was") : (plural ? "are" : "is");
      return join_words({time, "there", be, det, plural ? n.pl : n.sg, rng.pick(kRestPreps),
                   noun_phrase(rng, pick_noun(rng, 1 << Place)).text, "."});
    }
    default: {
      const NP a = subject_np();
      return join_words({time, a.text, predicate(rng, a, past), "."});
    }
  }
}

}  // namespace

DemoReview demo_review(DemoRng& rng, int label) {
  DISTILBERT_CHECK(label == 0 || label == 1, "demo_review: label must be 0 or 1, got ", label);
  const int t = label == 1 ? 1 : -1;
  DemoReview r;
  r.label = label;
  const uint64_t u = rng.below(100);
  const std::string prefix = rng.chance(0.2) ? rng.pick(kReviewPrefixes) : "";
  std::string body;
  if (u < 40) {
    r.form = ReviewForm::Single;
    body = review_clause(rng, t, r.negations);
  } else if (u < 60) {
    r.form = ReviewForm::And;
    const std::string a = review_clause(rng, t, r.negations);
    body = join_words({a, "and", review_clause(rng, t, r.negations)});
  } else if (u < 85) {
    r.form = ReviewForm::But;
    const std::string a = review_clause(rng, -t, r.negations);
    body = join_words({a, "but", review_clause(rng, t, r.negations)});
  } else {
    r.form = ReviewForm::Although;
    const std::string a = review_clause(rng, -t, r.negations);
    body = join_words({"although", a, ",", review_clause(rng, t, r.negations)});
  }
  r.text = join_words({prefix, body, "."});
  return r;
}

std::string demo_corpus_line(DemoRng& rng) {
  const bool past = rng.chance(0.6);
  const Noun& topic = pick_noun(rng, P | A);
  const int n = 3 + static_cast<int>(rng.below(5));
  Words sentences;
  for (int i = 0; i < n; ++i) {
    if (rng.chance(0.3)) sentences.push_back(demo_review(rng, static_cast<int>(rng.below(2))).text);
    else sentences.push_back(general_sentence(rng, topic, past));
  }
  return join_words(sentences);
}

DemoData make_demo_data(const DemoDataOptions& o) {
  DISTILBERT_CHECK(o.train >= 1 && o.dev >= 1 && o.test >= 1 && o.corpus_lines >= 0, "demo data sizes: train ", o.train,
                   ", dev ", o.dev, ", test ", o.test, " must be >= 1 and corpus lines ", o.corpus_lines, " >= 0");
  DemoData d;
  // Separate streams so that changing one size does not change the other parts.
  DemoRng task_rng(o.seed * 0x100000001B3ull + 1), corpus_rng(o.seed * 0x100000001B3ull + 2);
  std::unordered_set<std::string> seen;
  auto fill = [&](std::vector<DemoReview>& out, int64_t n) {
    int64_t attempts = 0;
    while (static_cast<int64_t>(out.size()) < n) {
      DISTILBERT_CHECK(++attempts < 50 * n + 1000, "demo data: cannot draw ", n, " distinct reviews");
      // Alternate labels so every split is balanced to within one example.
      DemoReview r = demo_review(task_rng, static_cast<int>(out.size() % 2));
      if (seen.insert(r.text).second) out.push_back(std::move(r));
    }
    // Shuffle (Fisher-Yates with our generator) so labels do not alternate in the file.
    for (size_t i = out.size(); i > 1; --i) std::swap(out[i - 1], out[static_cast<size_t>(task_rng.below(i))]);
  };
  fill(d.dev, o.dev);
  fill(d.test, o.test);
  fill(d.train, o.train);
  std::unordered_set<std::string> held_out;
  for (const auto* split : {&d.dev, &d.test})
    for (const auto& r : *split) held_out.insert(r.text);
  d.corpus.reserve(static_cast<size_t>(o.corpus_lines));
  while (static_cast<int64_t>(d.corpus.size()) < o.corpus_lines) {
    std::string line = demo_corpus_line(corpus_rng);
    bool leaks = false;  // a dev/test review inside the line: draw another line
    for (size_t start = 0; !leaks && start < line.size();) {
      size_t end = line.find(" . ", start);
      end = end == std::string::npos ? line.size() : end + 2;
      leaks = held_out.count(line.substr(start, end - start)) > 0;
      start = end + 1;
    }
    if (!leaks) d.corpus.push_back(std::move(line));
  }
  return d;
}

std::string demo_task_tsv(const std::vector<DemoReview>& reviews, bool test_layout) {
  std::string s = test_layout ? "index\tsentence\n" : "sentence\tlabel\n";
  for (size_t i = 0; i < reviews.size(); ++i) {
    if (test_layout) s += std::to_string(i) + "\t" + reviews[i].text + "\n";
    else s += reviews[i].text + "\t" + std::to_string(reviews[i].label) + "\n";
  }
  return s;
}

std::string demo_corpus_text(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

std::string demo_data_readme(const DemoDataOptions& o, const DemoData& d) {
  std::ostringstream s;
  size_t words = 0;
  std::unordered_set<std::string> vocab;
  for (const auto& l : d.corpus) {
    std::istringstream in(l);
    for (std::string w; in >> w; ++words) vocab.insert(w);
  }
  s << "# Built-in demo data (seed " << o.seed << ")\n\n"
    << "Written by `distilbert make-demo-data`: generated from small seeded grammars, no download. The same seed "
       "gives the same files on every machine.\n\n"
    << "| file | what |\n|---|---|\n"
    << "| `corpus.txt` | " << d.corpus.size() << " lines (paragraphs of 3-7 sentences), " << words << " words, "
    << vocab.size() << " distinct: the MLM pretraining / distillation text |\n"
    << "| `sentiment/train.tsv`, `dev.tsv` | " << d.train.size() << " / " << d.dev.size()
    << " film reviews in GLUE SST-2 layout (`sentence<TAB>label`, 0 negative, 1 positive) |\n"
    << "| `sentiment/test.tsv` | " << d.test.size() << " reviews, SST-2 test layout (`index<TAB>sentence`) |\n\n"
    << "**The corpus** has subject-verb agreement (`the dog runs` / `the dogs run`, `was` / `were`), one tense per "
       "paragraph, verbs that select their objects (`eat bread`, `drink water`, `read a letter`), sounds only their "
       "animal makes (`the dog barked`), `a` / `an`, a paragraph topic that recurs, and unlabelled review sentences "
       "like the task's. None of its sentences is a dev or test review.\n\n"
    << "**The sentiment label** follows from the words and their order. A clause's polarity is its adjective's "
       "(`good`, `dull`, ...) or opinion verb's (`loved`, `hated`, ...), flipped by `not`, `never` or `did not`. "
       "Clauses joined by `and` agree; in `A but B` and `although A , B` the clauses disagree and B decides. A bag "
       "of words cannot tell `good but dull` from `dull but good`. Labels are balanced (chance is 50%) and no "
       "sentence occurs in two splits.\n\n"
    << "| split | single clause | A and B | A but B | although A , B | with a negation | positive |\n"
    << "|---|---|---|---|---|---|---|\n";
  for (const auto& [name, split] : {std::pair<const char*, const std::vector<DemoReview>*>{"train", &d.train},
                                    {"dev", &d.dev}, {"test", &d.test}}) {
    std::map<ReviewForm, size_t> forms;
    size_t neg = 0, pos = 0;
    for (const auto& r : *split) {
      ++forms[r.form];
      neg += r.negations > 0;
      pos += r.label == 1;
    }
    s << "| " << name << " | " << forms[ReviewForm::Single] << " | " << forms[ReviewForm::And] << " | "
      << forms[ReviewForm::But] << " | " << forms[ReviewForm::Although] << " | " << neg << " | " << pos << " |\n";
  }
  return s.str();
}

int demo_word_polarity(const std::string& word) {
  for (const auto& w : kPositiveAdjectives)
    if (w == word) return 1;
  for (const auto& w : kNegativeAdjectives)
    if (w == word) return -1;
  for (const auto& v : kOpinionVerbs)
    if (word == v.past || word == v.base) return v.polarity;
  return 0;
}

}  // namespace distilbert::demo
