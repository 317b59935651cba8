namespace ServerlessImaging.RegionGenerator.Population;

/// <summary>
/// Name pools for random persons. Family names are upper case, as French hospitals register them;
/// first names are mixed case. Accented, hyphenated and apostrophe forms are deliberately over-represented.
/// </summary>
internal static class FrenchNames
{
    public static readonly IReadOnlyList<string> Family =
    [
        "MARTIN", "BERNARD", "DUBOIS", "THOMAS", "ROBERT", "RICHARD", "PETIT", "DURAND", "LEROY", "MOREAU",
        "SIMON", "LAURENT", "LEFÈVRE", "MICHEL", "GARCIA", "DAVID", "BERTRAND", "ROUX", "VINCENT", "FOURNIER",
        "MOREL", "GIRARD", "ANDRÉ", "MERCIER", "DUPONT", "LAMBERT", "BONNET", "FRANÇOIS", "LEGRAND", "GARNIER",
        "FAURE", "ROUSSEAU", "BLANC", "GUÉRIN", "HENRY", "PERRIN", "MORIN", "MATHIEU", "CLÉMENT", "GAUTHIER",
        "CHEVALIER", "MASSON", "GÉRARD", "NGUYEN", "BOYER", "NOËL", "MÉNARD", "LÉVÊQUE", "PRÉVOST", "CÔTÉ",
        "BENOÎT", "HÉBERT", "D'ALMEIDA", "N'GUESSAN", "L'HÔTE", "LE GALL", "DA SILVA", "SAINT-ÉTIENNE",
        "BRUNET-MOREAU", "CANTÙ", "DONÀ", "RIVIÈRE", "LEMAÎTRE", "BOËDEC", "FERRAND", "TESSIER",
    ];

    public static readonly IReadOnlyList<string> FemaleFirst =
    [
        "Marie", "Hélène", "Françoise", "Anaïs", "Gaëlle", "Maïté", "Chloé", "Léa", "Zoé", "Aurélie",
        "Anne-Sophie", "Marie-Thérèse", "Noémie", "Cécile", "Élodie", "Jeanne", "Loïse", "Brigitte", "Sylvie", "Nathalie",
    ];

    public static readonly IReadOnlyList<string> MaleFirst =
    [
        "Jean", "Jean-Pierre", "Jérôme", "François", "Loïc", "Noël", "Raphaël", "Gaëtan", "Benoît", "Étienne",
        "Pierre-Louis", "André", "Michel", "Théo", "Hervé", "Joël", "Jean-Noël", "Frédéric", "Grégoire", "Lucas",
    ];

    /// <summary>First names given to both sexes: used for the "same birth date, other sex" near-miss.</summary>
    public static readonly IReadOnlyList<string> Epicene = ["Dominique", "Camille", "Claude", "Sacha"];

    public static readonly IReadOnlyList<string> Physicians = ["GIRAUD^Étienne^^Dr", "LEFORT^Anne^^Dr", "KOUASSI^Yao^^Dr", "BÉRANGER^Chloé^^Pr"];
}
