using ServerlessImaging.EndToEndBench;

namespace ServerlessImaging.EndToEndBench.Tests;

public class StatisticsTests
{
    private static readonly double[] OneToTwenty = [.. Enumerable.Range(1, 20).Select(i => (double)i).Reverse()];

    [Theory]
    [InlineData(50, 10)]
    [InlineData(95, 19)]
    [InlineData(96, 20)]
    [InlineData(100, 20)]
    [InlineData(1, 1)]
    public void Percentile_is_the_nearest_rank_whatever_the_input_order(double p, double expected) =>
        Assert.Equal(expected, Statistics.Percentile(OneToTwenty, p));

    [Fact]
    public void Percentile_of_one_value_is_that_value() => Assert.Equal(7.5, Statistics.Percentile([7.5], 95));

    [Fact]
    public void Median_takes_the_middle_or_the_mean_of_the_two_middles()
    {
        Assert.Equal(3, Statistics.Median([5, 1, 3]));
        Assert.Equal(2.5, Statistics.Median([4, 1, 3, 2]));
    }

    [Fact]
    public void No_values_or_a_percentile_out_of_range_is_refused()
    {
        Assert.Throws<ArgumentException>(() => Statistics.Percentile([], 50));
        Assert.Throws<ArgumentException>(() => Statistics.Median([]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Statistics.Percentile([1], 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Statistics.Percentile([1], 101));
    }
}
