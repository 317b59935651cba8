using ServerlessImaging.Orchestration.Identity;

namespace ServerlessImaging.Orchestration.Tests.Identity;

public class NameNormalizerTests
{
    [Theory]
    [InlineData("Lefèvre", "LEFEVRE")]
    [InlineData("HÉLÈNE", "HELENE")]
    [InlineData("françoise", "FRANCOISE")]
    [InlineData("Jean-Pierre", "JEAN PIERRE")]
    [InlineData("Jean Pierre", "JEAN PIERRE")]
    [InlineData("Jean--Pierre", "JEAN PIERRE")]
    [InlineData("  jean   pierre ", "JEAN PIERRE")]
    [InlineData("D'Arc", "D ARC")]
    [InlineData("D’ARC", "D ARC")]
    [InlineData("N'GUYEN-VAN", "N GUYEN VAN")]
    [InlineData("Lætitia", "LAETITIA")]
    [InlineData("Œdipe", "OEDIPE")]
    [InlineData("Straße", "STRASSE")]
    [InlineData("Øster", "OSTER")]
    [InlineData("Łukasz", "LUKASZ")]
    [InlineData("ﬁlippi", "FILIPPI")]
    [InlineData("MARTIN^HELENE", "MARTIN HELENE")]
    [InlineData("", "")]
    [InlineData("  ", "")]
    [InlineData(null, "")]
    [InlineData("-'-", "")]
    public void Normalises_case_accents_and_separators(string? input, string expected) =>
        Assert.Equal(expected, NameNormalizer.Normalize(input));

    [Fact]
    public void Precomposed_and_decomposed_accents_normalise_alike() =>
        Assert.Equal(NameNormalizer.Normalize("H\u00C9L\u00C8NE"), NameNormalizer.Normalize("HE\u0301LE\u0300NE"));

    [Fact]
    public void Different_letters_stay_different()
    {
        Assert.NotEqual(NameNormalizer.Normalize("DUPONT"), NameNormalizer.Normalize("DUPOND"));
        Assert.NotEqual(NameNormalizer.Normalize("LE GALL"), NameNormalizer.Normalize("LEGALL")); // a separator is not nothing
    }
}

public class DicomPersonNameTests
{
    [Fact]
    public void Parses_the_five_components() =>
        Assert.Equal(new DicomPersonName("MARTIN", "HELENE", "MARIE", "MME", "JR"), DicomPersonName.Parse("MARTIN^HELENE^MARIE^MME^JR"));

    [Fact]
    public void Missing_components_are_empty_and_padding_is_trimmed() =>
        Assert.Equal(new DicomPersonName("MARTIN", "HELENE", "", "", ""), DicomPersonName.Parse("MARTIN^HELENE "));

    [Fact]
    public void Only_the_alphabetic_group_is_used() =>
        Assert.Equal("YAMADA", DicomPersonName.Parse("YAMADA^TARO=山田^太郎=やまだ^たろう").Family);

    [Fact]
    public void Family_only_and_empty_values_parse()
    {
        Assert.Equal("MARTIN", DicomPersonName.Parse("MARTIN").Family);
        Assert.Same(DicomPersonName.Empty, DicomPersonName.Parse(null));
        Assert.Equal(string.Empty, DicomPersonName.Parse("^^^^^^^").Family);
    }
}
