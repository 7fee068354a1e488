"""Carriers every agency deals with (name, code, NAIC company code where one company writes the business)."""

CARRIERS = [
    ("Aetna", "aetna", "60054"),
    ("Aflac", "aflac", "60380"),
    ("Ameritas", "ameritas", "61301"),
    ("Anthem Blue Cross", "anthem", "28207"),
    ("Blue Cross Blue Shield", "bcbs", ""),
    ("Cigna", "cigna", "62308"),
    ("Delta Dental", "delta-dental", ""),
    ("EyeMed", "eyemed", ""),
    ("Guardian", "guardian", "64246"),
    ("Humana", "humana", "73288"),
    ("Kaiser Permanente", "kaiser", ""),
    ("Lincoln Financial", "lincoln", "65676"),
    ("MetLife", "metlife", "65978"),
    ("Mutual of Omaha", "mutual-of-omaha", "71412"),
    ("Principal Financial", "principal", "61271"),
    ("Sun Life", "sun-life", "79065"),
    ("The Hartford", "hartford", "70815"),
    ("UnitedHealthcare", "uhc", "79413"),
    ("Unum", "unum", "62235"),
    ("VSP Vision Care", "vsp", ""),
]
