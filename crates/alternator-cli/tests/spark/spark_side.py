#!/usr/bin/env python3
"""The Spark side of tests/spark.rs: one local Spark session does every Spark-side step.

Usage: spark_side.py WORK ML100K_DIR

Reads from WORK what the test wrote there first (ours_spark/: our model exported with
--format spark; recs.parquet and preds.parquet: our Parquet outputs) and writes into WORK:

  ours_transform.csv     Spark's transform of ua.test with our model: user,item,prediction
  ours_recs.jsonl        Spark's recommendForAllUsers(10) with our model: {"user", "items"}
  ua_base_parquet/       ua.base as Spark writes a DataFrame: a directory of part files
  spark_model/           ALS(rank=10, maxIter=10, regParam=0.1, seed=7) fit on ua.base, saved
  spark_transform.csv    that model's transform of ua.test: user,item,prediction
  spark_recs.jsonl       that model's recommendForUserSubset(users 1..3, 10)
  doubles_model/         ours_spark/ with itemFactors' features written as array<double>
  summary.json           Spark's version, the part files, the schemas Spark read our outputs as
"""
import csv, json, os, shutil, sys

work, ml = sys.argv[1], sys.argv[2]
from pyspark.sql import SparkSession, functions as F, types as T
from pyspark.ml.recommendation import ALS, ALSModel

spark = (SparkSession.builder.master("local[2]").appName("alternator-spark-test")
         .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
         .config("spark.sql.shuffle.partitions", "2")
         # ua.base (1.9 MB) read in several splits, so that it is written as several part files,
         # in the file's row order.
         .config("spark.sql.files.maxPartitionBytes", str(600 * 1024))
         .getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
schema = T.StructType([T.StructField("user", T.IntegerType()), T.StructField("item", T.IntegerType()),
                       T.StructField("rating", T.FloatType()), T.StructField("timestamp", T.LongType())])
read = lambda name: spark.read.csv(os.path.join(ml, name), sep="\t", schema=schema)
base, test = read("ua.base"), read("ua.test")
summary = {"spark": spark.version}

def write_predictions(df, path):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["user", "item", "prediction"])
        for r in df.select("user", "item", "prediction").collect():
            w.writerow([r.user, r.item, repr(float(r.prediction))])

# Our model in Spark.
ours = ALSModel.load(os.path.join(work, "ours_spark"))
summary["ours_rank"] = ours.rank
write_predictions(ours.transform(test), os.path.join(work, "ours_transform.csv"))
with open(os.path.join(work, "ours_recs.jsonl"), "w") as f:
    for r in ours.recommendForAllUsers(10).collect():
        recs = [(x.item, float(x.rating)) for x in r.recommendations]
        f.write(json.dumps({"user": r.user, "items": [i for i, _ in recs],
                            "ratings": [s for _, s in recs]}) + "\n")

# ua.base as a Parquet directory of part files.
pq = os.path.join(work, "ua_base_parquet")
base.write.parquet(pq)
summary["parquet_parts"] = sorted(n for n in os.listdir(pq) if n.endswith(".parquet"))

# Spark's model with us.
als = ALS(rank=10, maxIter=10, regParam=0.1, seed=7, userCol="user", itemCol="item",
          ratingCol="rating", coldStartStrategy="nan")
model = als.fit(base)
model.save(os.path.join(work, "spark_model"))
write_predictions(model.transform(test), os.path.join(work, "spark_transform.csv"))
with open(os.path.join(work, "spark_recs.jsonl"), "w") as f:
    for r in model.recommendForUserSubset(base.select("user").where("user <= 3").distinct(), 10).collect():
        f.write(json.dumps({"user": r.user, "items": [x.item for x in r.recommendations],
                            "ratings": [float(x.rating) for x in r.recommendations]}) + "\n")

# A foreign factor table: features as array<double>.
bad = os.path.join(work, "doubles_model")
shutil.copytree(os.path.join(work, "ours_spark"), bad, ignore=shutil.ignore_patterns("itemFactors"))
(ours.itemFactors.withColumn("features", F.col("features").cast("array<double>"))
     .write.parquet(os.path.join(bad, "itemFactors")))

# Our Parquet outputs as Spark reads them.
for name in ("recs.parquet", "preds.parquet"):
    p = os.path.join(work, name)
    if os.path.exists(p):
        df = spark.read.parquet(p)
        summary[name] = {"schema": df.schema.simpleString(), "rows": df.count(),
                         "first": [json.loads(x) for x in df.limit(1).toJSON().collect()]}
with open(os.path.join(work, "summary.json"), "w") as f:
    json.dump(summary, f)
spark.stop()
