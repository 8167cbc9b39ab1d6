# ActiveRecord 6.1 probe: ADAPTER=postgresql|mysql2
require "active_record"
adapter = ENV["ADAPTER"] || "postgresql"
cfg = { adapter: adapter, host: "127.0.0.1", username: "app", password: "app-secret", database: "shop", pool: 5 }
cfg[:port] = adapter == "postgresql" ? 6432 : 6033
ActiveRecord::Base.establish_connection(cfg)
ActiveRecord::Base.logger = Logger.new($stdout) if ENV["V"]
$fails = 0
def check(name)
  yield
  puts "ok   #{name}"
rescue Exception => e
  $fails += 1
  puts "FAIL #{name} - #{e.class}: #{e.message[0, 300]}"
end
def eq(a, b, what)
  raise "#{what}: got #{a.inspect}, want #{b.inspect}" unless a == b
end

class Account < ActiveRecord::Base
  self.table_name = "accounts"
  has_many :payments, foreign_key: :account_id
end
class Payment < ActiveRecord::Base
  self.table_name = "payments"
  belongs_to :account
end
class Currency < ActiveRecord::Base
  self.table_name = "currencies"
  self.primary_key = "code"
end

check("migration: create tables") do
  ActiveRecord::Schema.define do
    drop_table :payments, if_exists: true
    drop_table :accounts, if_exists: true
    drop_table :currencies, if_exists: true
    create_table :accounts, id: false do |t|
      t.bigint :id, primary_key: true
      t.string :name
      t.decimal :balance, precision: 12, scale: 2, default: 0
      t.timestamps
    end
    create_table :payments do |t|
      t.bigint :account_id, null: false
      t.decimal :amount, precision: 12, scale: 2
      t.timestamps
    end
    create_table :currencies, id: false do |t|
      t.string :code, limit: 3, primary_key: true
      t.float :rate
    end
  end
end
check("create across shards") do
  (1..20).each { |i| Account.create!(id: i, name: "a#{i}", balance: i * 10) }
  eq(Account.count, 20, "count")
end
check("insert_all") do
  Currency.insert_all([{ code: "EUR", rate: 1.1 }, { code: "USD", rate: 1.0 }])
  eq(Currency.count, 2, "count")
end
check("find / where / order / limit") do
  eq(Account.find(7).name, "a7", "name")
  eq(Account.where("balance > ?", 100).order(balance: :desc).limit(3).pluck(:id), [20, 19, 18], "ids")
end
check("aggregates, group, having") do
  eq(Account.sum(:balance).to_i, 2100, "sum")
  eq(Account.maximum(:id), 20, "max")
  g = Account.group("id % 2").having("count(*) > ?", 5).count
  eq(g.size, 2, "groups")
end
check("update / save / touch") do
  a = Account.find(3)
  a.name = "x3"
  a.save!
  eq(Account.find(3).name, "x3", "name")
  Account.where(id: 3).update_all(name: "a3")
end
check("transaction on one shard") do
  Account.transaction do
    a = Account.lock.find(4)
    a.update!(balance: a.balance - 5)
    Payment.create!(account_id: 4, amount: 5)
  end
  eq(Account.find(4).balance.to_i, 35, "balance")
end
check("transaction rollback") do
  Account.transaction do
    Account.find(5).update!(name: "zz")
    raise ActiveRecord::Rollback
  end
  eq(Account.find(5).name, "a5", "name")
end
check("association and includes") do
  a = Account.includes(:payments).find(4)
  eq(a.payments.size, 1, "payments")
end
check("upsert_all") do
  Account.upsert_all([{ id: 6, name: "u6", balance: 1, created_at: Time.now, updated_at: Time.now }])
  eq(Account.find(6).name, "u6", "name")
end
check("destroy") do
  Account.find(20).destroy!
  eq(Account.count, 19, "count")
end
check("find_each batches across shards") do
  n = 0
  Account.find_each(batch_size: 4) { n += 1 }
  eq(n, 19, "rows")
end
check("exists? and pluck scatter") do
  eq(Account.exists?(name: "a9"), true, "exists")
end
puts($fails > 0 ? "#{$fails} FAILED" : "all ok")
exit($fails > 0 ? 1 : 0)
